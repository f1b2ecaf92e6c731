"""Running the line: the `doctor` that checks a deployment end to end, and `/metrics`."""
