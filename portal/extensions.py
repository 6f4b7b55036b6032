"""Extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from portal.core.database import Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _client_ip() -> str:
    return get_remote_address() or request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})

if TYPE_CHECKING:
    # A type checker cannot take a base class from an attribute (db.Model, python/mypy#8603):
    # to it a model is what db.Model is made of, the declarative Base plus Flask-SQLAlchemy's.
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(Base, _FlaskModel):
        pass
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=_client_ip)
# Shared by every worker (Redis) or none at all: see CACHE_TYPE in portal/config.py.
cache = Cache()
