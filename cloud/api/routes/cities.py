"""Registry, fleet status and indices of a city."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cloud.api import fleet, indices
from cloud.api.deps import CityDep, Svc, require
from cloud.api.models import AqiOut, CitySummary, DeviceOut, FleetOut, GatewayOut, SiteOut, WqiOut
from cloud.api.registry import City
from cloud.api.roles import Permission

router = APIRouter(prefix="/api/v1/cities", tags=["cities"])
Reader = Depends(require(Permission.READ))


def _summary(city: City) -> CitySummary:
    c = city.config
    return CitySummary(
        **c.city.model_dump(),
        sites=len(c.sites),
        gateways=len(c.gateways),
        devices=sum(len(g.devices) for g in c.gateways),
    )


@router.get("", dependencies=[Reader])
def list_cities(svc: Svc) -> list[CitySummary]:
    return [_summary(c) for _, c in sorted(svc.registry.cities.items())]


@router.get("/{city}", dependencies=[Reader])
def get_city(city: CityDep) -> CitySummary:
    return _summary(city)


@router.get("/{city}/sites", dependencies=[Reader])
def list_sites(city: CityDep) -> list[SiteOut]:
    return [SiteOut.model_validate(s) for s in city.config.sites]


@router.get("/{city}/gateways", dependencies=[Reader])
def list_gateways(city: CityDep) -> list[GatewayOut]:
    return [GatewayOut(id=g.id, site=g.site, devices=[d.id for d in g.devices]) for g in city.config.gateways]


@router.get("/{city}/devices", dependencies=[Reader])
def list_devices(city: CityDep) -> list[DeviceOut]:
    return [
        DeviceOut(
            id=d.id,
            family=d.family,
            gateway=g.id,
            site=city.config.device_site(g, d),
            port=d.port,
            poll_interval_s=d.poll_interval_s,
        )
        for g, d in city.config.devices()
    ]


@router.get("/{city}/fleet", dependencies=[Reader])
def get_fleet(city: CityDep, svc: Svc) -> FleetOut:
    """Per gateway: online (a health point within ``online_within_s``), last seen, buffer depth,
    oldest unsent reading; per device: produced and dropped from its latest health point."""
    return fleet.fleet(svc.influx, city.config, svc.settings.online_within_s)


@router.get("/{city}/aqi", dependencies=[Reader])
def get_aqi(city: CityDep, svc: Svc) -> list[AqiOut]:
    """The latest VN_AQI per site and kind (hourly, daily); empty until the indices worker writes."""
    return indices.latest_aqi(svc.influx, city.id)


@router.get("/{city}/wqi", dependencies=[Reader])
def get_wqi(city: CityDep, svc: Svc) -> list[WqiOut]:
    return indices.latest_wqi(svc.influx, city.id)
