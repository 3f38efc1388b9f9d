"""Configuration from the environment, validated once at start (pydantic-settings)."""

from typing import Annotated, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Port = Annotated[int, Field(ge=1, le=65535)]


class Settings(BaseSettings):
    # Variable names are the field names upper-cased (APP_VERSION, HTTP_PORT, ...).
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    app_version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")]
    app_color: Literal["blue", "green"]
    http_port: Port = 8080
    metrics_port: Port = 9100
    drain_delay_seconds: Annotated[float, Field(ge=0, le=300)] = 5
    max_connection_age_seconds: Annotated[float, Field(gt=0, le=3600)] = 10
    fault_injection: Literal["enabled", "disabled"] = "disabled"
    log_level: Literal["debug", "info", "warn", "warning", "error"] = "info"

    @field_validator("metrics_port")
    @classmethod
    def _distinct_ports(cls, value: int, info: ValidationInfo) -> int:
        if value == info.data.get("http_port"):
            raise ValueError("must differ from HTTP_PORT")
        return value


class ConfigError(Exception):
    """Invalid configuration: `variable` names the first offending environment variable."""

    def __init__(self, variable: str, message: str, variables: list[str]) -> None:
        super().__init__(message)
        self.variable = variable
        self.message = message
        self.variables = variables


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        errors = exc.errors()
        names = [str((err.get("loc") or ("?",))[0]).upper() for err in errors]
        first = errors[0]
        message = "missing" if first.get("type") == "missing" else str(first.get("msg"))
        raise ConfigError(names[0], message, names) from None
