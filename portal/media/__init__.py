"""Resident photos: checking and cleaning uploads (images) and keeping the files (storage).

Pure processing and storage: no models, views or migrations, so features that accept photos
(proposals, cases) decide for themselves where the stored name and content type are recorded.
"""
