"""The jobgate benchmark harness that tests/bench/run drives."""
