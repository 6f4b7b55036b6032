"""Agencies and scoped roles (models, services, permissions); admin pages live in portal.admin."""
