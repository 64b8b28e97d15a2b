"""Where mlclf's code lives; what it is (name, dependencies, the `mlclf` command) is in
pyproject.toml.

`datasets/` holds our TFDS builders. It is installed as `mlclf_datasets` so that it never
shadows, and is never shadowed by, the unrelated PyPI package called `datasets`. The package
list is computed, so a new corpus folder needs no line here.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["mlclf", "mlclf.*"])
    + ["mlclf_datasets"]
    + ["mlclf_datasets." + p for p in find_packages("datasets")],
    package_dir={"mlclf_datasets": "datasets"},
    package_data={"mlclf": ["templates/*.html"],
                  "mlclf_datasets": ["*/checksums.tsv", "*/README.md", "*/CITATIONS.bib",
                                     "*/dummy_data/*", "*/dummy_data/*/*", "*/dummy_data/*/*/*",
                                     "*/dummy_data/*/*/*/*"]},
)
