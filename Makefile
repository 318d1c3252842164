# The two commands: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Debian package:program pairs the stack runs (the broker and the database).
# ffmpeg: the simulated cameras' H.264 clips.
SYSTEM_PACKAGES := mosquitto:mosquitto influxdb:influxd ffmpeg:ffmpeg
# What only the tests need: a real browser for the status page, a real v2-write server.
TEST_PACKAGES := chromium:chromium victoria-metrics:victoria-metrics \
	python3-gi:/usr/lib/python3/dist-packages/gi/__init__.py \
	gir1.2-gst-rtsp-server-1.0:/usr/lib/*/girepository-1.0/GstRtspServer-1.0.typelib \
	gstreamer1.0-plugins-base:/usr/lib/*/gstreamer-1.0/libgsttypefindfunctions.so \
	gstreamer1.0-plugins-good:/usr/lib/*/gstreamer-1.0/libgstrtp.so \
	gstreamer1.0-plugins-bad:/usr/lib/*/gstreamer-1.0/libgstvideoparsersbad.so
CITY ?= configs/cities/buon-ma-thuot.yaml

.PHONY: setup system demo test bench lint clean

setup: system $(VENV)/.installed

system:
	@scripts/ensure-system-packages.sh $(SYSTEM_PACKAGES)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ioc-telemetry needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: setup
	$(VENV)/bin/ioc demo --city $(CITY)

test: setup
	@scripts/ensure-system-packages.sh $(TEST_PACKAGES)
	$(PY) -m pytest

bench: setup
	$(PY) -m bench

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf var .pytest_cache
