//! Shared harness for the workspace tests (and later the fuzz targets).
