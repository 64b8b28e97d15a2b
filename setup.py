"""mlclf: multilingual document classification (MHAN and multi-window CNN+NCE) on TF/Keras."""
from setuptools import find_packages, setup

setup(
    name="mlclf",
    version="0.1.0",
    description="Multilingual document classification: hierarchical attention networks and CNN+NCE",
    python_requires=">=3.10",
    # `datasets/` holds our TFDS builders. It is installed as `mlclf_datasets` so that it never
    # shadows, and is never shadowed by, the unrelated PyPI package called `datasets`.
    packages=find_packages(include=["mlclf", "mlclf.*"])
    + ["mlclf_datasets"]
    + ["mlclf_datasets." + p for p in find_packages("datasets")],
    package_dir={"mlclf_datasets": "datasets"},
    package_data={"mlclf": ["templates/*.html"],
                  "mlclf_datasets": ["*/checksums.tsv", "*/README.md", "*/CITATIONS.bib",
                                     "*/dummy_data/*", "*/dummy_data/*/*", "*/dummy_data/*/*/*",
                                     "*/dummy_data/*/*/*/*"]},
    py_modules=[],
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<4",
        "tensorflow-datasets>=4.9.10,<4.10",
        # TFDS 4.9.10 imports importlib_resources on Python 3.11 without declaring it.
        "importlib_resources>=6",
        # TF 2.21 no longer pulls in tensorboard; we write summaries and document `tensorboard`.
        "tensorboard>=2.21,<2.22",
        "numpy>=1.26",
        "absl-py>=2.1",
    ],
    extras_require={"test": ["pytest>=8", "dill"]},  # tfds.testing imports dill
)
