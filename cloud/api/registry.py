"""The cities the API serves: every ``cities/*.yaml`` of the deployment's configs folder, loaded and
checked once at start (a broken file stops the start with every problem listed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firmware_bridge import registry as families
from ioc.config import CityConfig, ConfigError, ConfigProblem, Device, Gateway, load_city


@dataclass(frozen=True)
class City:
    config: CityConfig
    file: Path

    @property
    def id(self) -> str:
        return self.config.city.id


class Registry:
    def __init__(self, cities: dict[str, City]) -> None:
        self.cities = cities

    @classmethod
    def load(cls, configs_dir: Path) -> Registry:
        folder = Path(configs_dir) / "cities"
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise ConfigError([ConfigProblem(str(folder), None, "", "no city configs (*.yaml) found here")])
        cities: dict[str, City] = {}
        problems: list[ConfigProblem] = []
        for path in files:
            try:
                config = load_city(path, families=families.config_specs())
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            if config.city.id in cities:
                other = cities[config.city.id].file
                problems.append(
                    ConfigProblem(str(path), None, "city.id", f"{config.city.id!r} is also {other}'s id")
                )
                continue
            cities[config.city.id] = City(config, path)
        if problems:
            raise ConfigError(problems)
        return cls(cities)

    def get(self, city: str) -> City | None:
        return self.cities.get(city)

    def find_device(self, device: str) -> tuple[City, Gateway, Device] | None:
        for city in self.cities.values():
            for gateway, dev in city.config.devices():
                if dev.id == device:
                    return city, gateway, dev
        return None
