"""CAVRA's artifacts and rules: pure functions over parsed JSON and an injected `now`."""
