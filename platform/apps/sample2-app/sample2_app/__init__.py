"""sample2-app: the platform's app runtime contract (platform/docs/conventions.md) on FastAPI."""

APP_NAME = "sample2-app"
