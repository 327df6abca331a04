"""Fraud detection: projections, community detection, shared identifiers, double claims, anomalies."""
