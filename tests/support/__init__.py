"""Helpers shared by the test suites: fakes, fault injectors, broker fixtures' building blocks."""
