"""City config versions: list, get, validate, put (store and publish retained), roll back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from cloud.api import configs
from cloud.api.deps import Caller, CityDep, Svc, require
from cloud.api.models import ConfigVersionOut, ConfigVersionText, ErrorOut, PublishOut, ValidationOut
from cloud.api.publisher import PublishError
from cloud.api.roles import Permission

router = APIRouter(prefix="/api/v1/cities/{city}/configs", tags=["configs"])
Engineer = Annotated[Caller, Depends(require(Permission.CONFIGURE))]

# The body is the YAML file itself, as an engineer has it in git; declared by hand because FastAPI
# only describes bodies it parses.
YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The city config, YAML, UTF-8.",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}}


async def _text(request: Request) -> str:
    data = await request.body()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"the body is not UTF-8 text (byte {exc.start})"
        ) from None


def _invalid(problems: list[Any]) -> HTTPException:
    detail = {
        "message": f"the config has {len(problems)} problem(s)",
        "problems": [p.model_dump() for p in problems],
    }
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


@router.get("", dependencies=[Depends(require(Permission.READ))])
def list_versions(city: CityDep, svc: Svc) -> list[ConfigVersionOut]:
    """Versions published through this API, newest first."""
    return configs.versions(svc.state, city.id)


@router.get("/{version}", dependencies=[Depends(require(Permission.READ))], responses=_ERRORS)
def get_version(city: CityDep, version: str, svc: Svc) -> ConfigVersionText:
    found = configs.get_version(svc.state, city.id, version)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no version {version!r} of {city.id}")
    return found


@router.post("/validate", openapi_extra=YAML_BODY)
async def validate(request: Request, city: CityDep, _caller: Engineer) -> ValidationOut:
    """Every problem of a config at once, each with its line, key, message and suggestion."""
    text = await _text(request)
    _config, problems = await run_in_threadpool(configs.check, text, city.id)
    return ValidationOut(ok=not problems, problems=problems)


@router.put(
    "/{version}",
    openapi_extra=YAML_BODY,
    status_code=201,
    responses={**_ERRORS, 200: {"model": PublishOut, "description": "This exact version was stored before"}},
)
async def put_version(
    request: Request, response: Response, city: CityDep, version: str, svc: Svc, caller: Engineer
) -> PublishOut:
    """Validate, then publish retained to each gateway of the config, then store. The same
    version with the same text again is a no-op (200); with other text, 409."""
    text = await _text(request)
    try:
        out = await run_in_threadpool(
            configs.put, svc.state, svc.publisher, city.id, version, text, caller.who
        )
    except configs.BadVersion as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except configs.InvalidConfig as exc:
        raise _invalid(exc.problems) from None
    except configs.VersionConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except PublishError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{exc}; nothing stored, retry") from None
    if not out.stored:
        response.status_code = status.HTTP_200_OK
    return out


@router.post("/{version}/rollback", status_code=201, responses=_ERRORS)
def rollback(city: CityDep, version: str, svc: Svc, caller: Engineer) -> PublishOut:
    """Publish a stored version again as ``<version>-rollback-<n>``."""
    try:
        return configs.rollback(svc.state, svc.publisher, city.id, version, caller.who)
    except configs.VersionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except configs.InvalidConfig as exc:
        raise _invalid(exc.problems) from None
    except PublishError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{exc}; nothing stored, retry") from None
