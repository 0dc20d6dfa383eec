"""Operator tools: dead letters of every stage in one place (CLI `pakn-gateway dlq`, REST `/api/ops`)."""
