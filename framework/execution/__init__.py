"""Orders, the simulated broker that fills them, fill rules, costs, risk checks, sizing and
the paper journal. The exact rules are documented in docs/execution.md."""

from typing import TYPE_CHECKING, Any

from ._costs import COMMISSION_FORMS as COMMISSION_FORMS
from ._costs import SLIPPAGE_FORMS as SLIPPAGE_FORMS
from ._costs import BpsSlippage as BpsSlippage
from ._costs import CommissionModel as CommissionModel
from ._costs import FixedCommission as FixedCommission
from ._costs import NoCommission as NoCommission
from ._costs import NoSlippage as NoSlippage
from ._costs import PercentageCommission as PercentageCommission
from ._costs import PerShareCommission as PerShareCommission
from ._costs import SlippageModel as SlippageModel
from ._costs import SpreadSlippage as SpreadSlippage
from ._costs import TickSlippage as TickSlippage
from ._costs import parse_commission as parse_commission
from ._costs import parse_slippage as parse_slippage
from ._fill_models import FillModel as FillModel
from ._orders import Bracket as Bracket
from ._orders import Order as Order
from ._orders import OrderStatus as OrderStatus
from ._orders import OrderType as OrderType
from ._orders import PendingChange as PendingChange
from ._orders import TimeInForce as TimeInForce
from ._risk import RiskLimits as RiskLimits
from ._sessions import DailySessions as DailySessions
from ._simulated_broker import KILL_SWITCH_OWNER as KILL_SWITCH_OWNER
from ._simulated_broker import BrokerConfig as BrokerConfig
from ._simulated_broker import BrokerStatistics as BrokerStatistics
from ._simulated_broker import SimulatedBroker as SimulatedBroker
from ._sizing import LotSizes as LotSizes

if TYPE_CHECKING:
    from ._paper_journal import JOURNAL_KIND as JOURNAL_KIND
    from ._paper_journal import PaperBook as PaperBook
    from ._paper_journal import PaperJournal as PaperJournal
    from ._paper_journal import PaperJournalError as PaperJournalError
    from ._paper_journal import read_paper_journal as read_paper_journal

#: The paper journal needs the recording format and orjson; backtests never do. Its names load
#: on first use.
_PAPER_JOURNAL_NAMES = {
    "JOURNAL_KIND",
    "PaperBook",
    "PaperJournal",
    "PaperJournalError",
    "read_paper_journal",
}


def __getattr__(name: str) -> Any:
    if name not in _PAPER_JOURNAL_NAMES:
        raise AttributeError(f"module 'framework.execution' has no attribute {name!r}")
    from . import _paper_journal

    value = getattr(_paper_journal, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _PAPER_JOURNAL_NAMES)


__all__ = [
    "COMMISSION_FORMS",
    "JOURNAL_KIND",
    "KILL_SWITCH_OWNER",
    "SLIPPAGE_FORMS",
    "BpsSlippage",
    "Bracket",
    "BrokerConfig",
    "BrokerStatistics",
    "CommissionModel",
    "DailySessions",
    "FillModel",
    "FixedCommission",
    "LotSizes",
    "NoCommission",
    "NoSlippage",
    "Order",
    "OrderStatus",
    "OrderType",
    "PaperBook",
    "PaperJournal",
    "PaperJournalError",
    "PendingChange",
    "PerShareCommission",
    "PercentageCommission",
    "RiskLimits",
    "SimulatedBroker",
    "SlippageModel",
    "SpreadSlippage",
    "TickSlippage",
    "TimeInForce",
    "parse_commission",
    "parse_slippage",
    "read_paper_journal",
]
