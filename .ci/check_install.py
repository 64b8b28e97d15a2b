"""Checks an installed mlclf from outside the checkout: every module of both packages imports,
the package data is there, and the `mlclf` command answers.

Run it from a folder that is not the checkout, or the checkout's own `mlclf/` would be imported
instead of the installed one.
"""
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys

import mlclf
import mlclf_datasets

checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
where = {name: os.path.dirname(package.__file__)
         for name, package in (("mlclf", mlclf), ("mlclf_datasets", mlclf_datasets))}
print("imported from:", ", ".join(f"{name} {path}" for name, path in where.items()))
modules = []
for package in (mlclf, mlclf_datasets):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # __main__ runs the command; builder tests need the [test] extra (tfds.testing).
        if module.name.endswith(("__main__", "_test")):
            continue
        importlib.import_module(module.name)
        modules.append(module.name)
for data_file in (os.path.join(where["mlclf"], "templates", "report.html"),
                  os.path.join(where["mlclf_datasets"], "masakhanews", "checksums.tsv")):
    if not os.path.isfile(data_file):
        sys.exit(f"package data missing: {data_file}")
command = shutil.which("mlclf")
if command is None:
    sys.exit("the mlclf command is not on PATH")
done = subprocess.run([command, "--help"], capture_output=True, text=True, check=True)
if "train" not in done.stdout:
    sys.exit(f"mlclf --help does not list its commands:\n{done.stdout}")
print(f"{len(modules)} modules import; package data present; {command} answers")
