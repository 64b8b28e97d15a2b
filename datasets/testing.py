"""What the builder tests share (datasets/*/*_test.py). Imports no test-only package, so that the
install check can import every module."""
from unittest import mock

from mlclf_datasets import _common


class MockedDownload:
    """Mixed into a `tfds.testing.DatasetBuilderTestCase` of the download path, whose download
    TFDS mocks (DL_DOWNLOAD_RESULT): the check that the upstream hosts answer is skipped too, so
    that the test runs without network."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch.object(_common, "check_reachable", lambda urls: None)
        patcher.start()
        self.addCleanup(patcher.stop)
