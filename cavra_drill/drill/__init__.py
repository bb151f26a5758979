"""The drill engine, the simulated deployment (stub Go runtime, decision service) and process supervision."""
