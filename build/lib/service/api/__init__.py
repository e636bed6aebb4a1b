"""The HTTP decision service: a FastAPI app over the decision path (service/decision/)."""
