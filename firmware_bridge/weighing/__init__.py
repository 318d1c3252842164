"""Vehicle weighings from live scale weights, kept in a tamper-evident hash chain (see README.md).

Not a device family: the scale-indicator families set ``new_processor=new_weighing_processor`` and
``options=WeighingOptions`` (or a model extending it).
"""

from firmware_bridge.weighing.chain import GENESIS, canonical, record_hash
from firmware_bridge.weighing.journal import JOURNAL_NAME, Journal
from firmware_bridge.weighing.options import WeighingOptions
from firmware_bridge.weighing.processor import WeighingProcessor, new_weighing_processor
from firmware_bridge.weighing.verify import VerifyResult, verify_chain, verify_records

__all__ = [
    "GENESIS",
    "JOURNAL_NAME",
    "Journal",
    "VerifyResult",
    "WeighingOptions",
    "WeighingProcessor",
    "canonical",
    "new_weighing_processor",
    "record_hash",
    "verify_chain",
    "verify_records",
]
