"""Evaluation harness: question sets, metrics, reports, deployment gates."""
