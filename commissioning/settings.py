"""Settings, all from environment variables (see .env.example).

DJANGO_ENV=development (the default) embeds safe defaults: SQLite under var/, tasks run
in-process, a secret key generated once and kept under var/. DJANGO_ENV=production requires
every secret from the environment and stops start-up naming the first one missing.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is required when DJANGO_ENV=production."
        )
    return value


def _development_secret_key() -> str:
    """A key generated on first use and kept, so sessions survive restarts."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or [
        _required("ALLOWED_HOSTS")
    ]
    DATABASES = {"default": env.db_url_config(_required("DATABASE_URL"))}
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": env.db_url(
            "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'commissioning.sqlite3'}"
        )
    }

DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Production keeps each connection for a minute (opening one costs a PostgreSQL backend
# process, ~20 ms measured here); set CONN_MAX_AGE=0 behind PgBouncer in transaction mode.
DATABASES["default"].setdefault(
    "CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
)
# A kept connection (CONN_MAX_AGE > 0) is checked before a request reuses it, so one the
# server dropped (a restart, a failover, pg_terminate_backend) is replaced, not a 500.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; busy timeout avoids
    # "database is locked" on short overlaps.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "strategies",
    "indicators",
    "actions",
    "scorecard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made each change for the audit history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "commissioning.urls"
WSGI_APPLICATION = "commissioning.wsgi.application"
ASGI_APPLICATION = "commissioning.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
# collectstatic fills it in production; WhiteNoise expects it to exist in development too.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Front-end packages from npm (`make assets`: npm ci, then copied into var/assets with
# the NHS CDN's @font-face rules taken out), served under static/npm/. No CDN, ever.
ASSETS_DIR = VAR_DIR / "assets"
if ASSETS_DIR.is_dir():
    STATICFILES_DIRS.append(("npm", ASSETS_DIR))

# The scorecard pages cache selector output under a version the recompute bumps
# (scorecard/cache.py). In-process by default; Redis when REDIS_URL or CACHE_URL is set,
# so web processes and workers share one version. The Redis backend treats an unreachable
# Redis as an empty cache (commissioning/cache_backends.py): pages and the API carry on.
_CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
if _CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "commissioning.cache_backends.ResilientRedisCache",
            "LOCATION": _CACHE_URL,
            "KEY_PREFIX": "ics",
        }
    }
elif _CACHE_URL:
    CACHES = {"default": env.cache_url_config(_CACHE_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "scorecard",
        }
    }
# Uploaded returns are kept outside the web root.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "files")))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery: with no broker, tasks run in-process and eagerly (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With the broker gone, sending a task gives up within seconds (the web process then runs
# the work itself, commissioning/background.py; a return's recompute waits in the outbox
# for the sweep below) instead of holding the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    # A late-acknowledged task whose worker died is delivered again after this long;
    # longer than any task may run (the full recompute's hard limit is 1,900 s).
    "visibility_timeout": 3600,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY
}
CELERY_BEAT_SCHEDULE = {
    # The full recompute keeps flags that depend on the date (data overdue) current.
    "nightly-full-recompute": {
        "task": "scorecard.recompute_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Sweeps the durable outbox in case a return committed while no worker was listening.
    "recompute-queued-sweep": {
        "task": "scorecard.recompute_queued",
        "schedule": crontab(minute="*/5"),
    },
    # Reminds SDG members of updates due within WORKFLOW_REMINDER_DAYS_BEFORE days (once
    # per person per cycle, so running it daily is safe).
    "workflow-reminders": {
        "task": "scorecard.send_workflow_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # Monthly board packs (BoardPackSchedule): daily check, one pack a month per system.
    "monthly-board-packs": {
        "task": "scorecard.generate_scheduled_board_packs",
        "schedule": crontab(hour=6, minute=0),
    },
}
WORKFLOW_REMINDER_DAYS_BEFORE = env.int("WORKFLOW_REMINDER_DAYS_BEFORE", default=7)
# Links in e-mails are absolute: the address users reach the site at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# E-mail: printed to the console in development; SMTP from the environment in production.
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL",
    default="Integrated Commissioning Scorecard <noreply@localhost>",
)
if PRODUCTION:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )

REST_FRAMEWORK = {
    # The token first: its WWW-Authenticate header makes unauthenticated calls 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commissioning.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "commissioning.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "commissioning.api.views.ApiPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["commissioning.api.throttling.ApiRateThrottle"],
    # Per token (or per signed-in user): reads, and the heavier uploads and commits.
    "DEFAULT_THROTTLE_RATES": {
        "api": env.str("API_RATE", default="1200/min"),
        "upload": env.str("API_UPLOAD_RATE", default="60/hour"),
    },
    "EXCEPTION_HANDLER": "commissioning.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": "format",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Uploads up to this size are checked (and committed) within the API request; larger
# ones are checked in the background (202, then poll the upload).
API_SYNC_UPLOAD_MAX_BYTES = env.int(
    "API_SYNC_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Integrated Commissioning Scorecard API",
    "DESCRIPTION": (
        "The scorecard as JSON and CSV: systems, strategies with their aims and "
        "elements, indicators with their values and computed flags, each strategy's "
        "performance overview (now or as at a date), published stocktakes, the "
        "exception report with commentary, action plans with progress, and returns "
        "(upload with a dry run, commit, roll back). Authenticate with your browser "
        "session or `Authorization: Bearer <token>` (make tokens at /api/tokens/). "
        "Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReturnKindEnum": "indicators.models.Return.Kind",
        "ReturnStatusEnum": "indicators.models.Return.Status",
        "UploadStatusEnum": "indicators.models.ImportJob.Status",
        "UploadFormatEnum": "indicators.models.ImportJob.Format",
        "PeriodTypeEnum": "indicators.models.PeriodType",
        "AreaKindEnum": "indicators.models.Area.Kind",
        "ActionStatusEnum": "actions.models.Action.Status",
    },
}

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Production hardening ----------------------------------------------------------------
# Request ids and JSON logs, health checks, login throttling (django-axes), a content
# security policy (django-csp 4), Celery queues, and the HTTPS settings check --deploy
# looks for. Every knob comes from the environment; .env.example lists them.
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, REPORT_SAMPLE, SELF, UNSAFE_INLINE  # noqa: E402
from kombu import Queue  # noqa: E402

INSTALLED_APPS += ["csp", "axes"]
MIDDLEWARE = [
    # First: every log line below carries the request id; probes skip host checks.
    "commissioning.logging.RequestIdMiddleware",
    "commissioning.health.HealthCheckMiddleware",
    *MIDDLEWARE,
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "commissioning.security.LoginThrottleBackend",
    *globals().get(
        "AUTHENTICATION_BACKENDS", ["django.contrib.auth.backends.ModelBackend"]
    ),
]

# Login throttling: after LOGIN_FAILURE_LIMIT failed sign-ins for one username from one
# address, that pair is refused (429, with a page that says so) for LOGIN_LOCKOUT_MINUTES.
# Keyed on the pair so that nobody can lock a colleague out from elsewhere.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "commissioning.security.client_ip_address"
AXES_VERBOSE = False
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (0: none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool(
    "SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True
)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    # Behind a TLS-terminating proxy: the header (and value) it sets on HTTPS requests.
    # Empty when gunicorn faces the internet itself (then never trust the header).
    _ssl_header = env.list(
        "SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"]
    )
    if _ssl_header and len(_ssl_header) != 2:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. "
            "'HTTP_X_FORWARDED_PROTO,https', or empty."
        )
    SECURE_PROXY_SSL_HEADER = tuple(_ssl_header) if _ssl_header else None
    # Probes talk plain HTTP to the container (HealthCheckMiddleware answers first anyway).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    # Hashed, compressed static files, without choking on vendored source-map comments.
    STORAGES["staticfiles"]["BACKEND"] = (
        "commissioning.staticfiles.ManifestStaticFilesStorage"
    )

# Content security policy: this origin only, no inline script, no plugins, no framing.
# style-src allows inline styles because Plotly positions its chart parts with inline
# style attributes and <style> rules it writes at run time, and Swagger UI and Redoc
# (the API docs) inject theirs the same way; scripts stay strictly 'self'.
# CSP_ENABLED=false drops the header; CSP_REPORT_ONLY=true reports without enforcing.
# Enforced by default: tests/browser/test_csp_policy.py opens every page in Chromium and
# fails on any violation.
_csp_policy = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # 'report-sample': a violation report quotes the blocked script's first words.
        "script-src": [SELF, REPORT_SAMPLE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # Redoc parses the schema in a web worker it makes from a blob.
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env.bool("CSP_ENABLED", default=True):
    if env.bool("CSP_REPORT_ONLY", default=False):
        CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy
    else:
        CONTENT_SECURITY_POLICY = _csp_policy

# Celery queues: uploads (ingest), flag recomputation (recompute) and reminders and
# reports (reports) run on separate queues so that a large upload never delays flags.
# A worker started without -Q consumes all of them (development, tests, one small box);
# docker-compose.yml runs one worker per queue (see docs/operations.md to scale out).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue("celery"),
    Queue("ingest"),
    Queue("recompute"),
    Queue("reports"),
]
CELERY_TASK_ROUTES = {
    "indicators.tasks.*": {"queue": "ingest"},
    "scorecard.recompute_*": {"queue": "recompute"},
    "scorecard.send_workflow_reminders": {"queue": "reports"},
}
# The worker logs through LOGGING below (JSON with the request id), not Celery's format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "commissioning.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "commissioning.logging.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The request id middleware writes the access log; runserver's would repeat it.
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
