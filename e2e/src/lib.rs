//! End-to-end tests of Shifting in headless Chromium over WebDriver (see `e2e/tests/`).
