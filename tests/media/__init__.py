"""Tests for portal.media: photo checking and cleaning, storage and serving."""
