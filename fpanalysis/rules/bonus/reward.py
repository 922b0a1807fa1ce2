"""The reward rule read plainly, for one certificate and one month (rulebook §5). The work plan:
从领证之日起至该独生子女满14周岁止,每月发给独生子女父母奖励金20元,列入工资表同发 (from the day the
certificate is issued until the only child turns 14, the parents are paid 20 yuan a month, with
their salary). Plain Python over dates and scalars (a month is given as any of its days), with the
parameters in force on the month's first day: the statement a reviewer reads against the plan, and
the reference the fast engine (:mod:`~fpanalysis.rules.bonus.segments`,
:mod:`~fpanalysis.rules.bonus.cohorts`) is tested against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fpanalysis.core.params import Params
from fpanalysis.rules.bonus.months import yuan_to_fen


@dataclass(frozen=True)
class Person:
    """A parent as the reward sees them: their place on the bureau's payroll.

    Attributes:
        person_id: the person's id.
        category: ``staff`` for the bureau's own staff (``floating``, ``outside``, ...).
        unit_id: the unit that pays a staff member's salary.
        hire_date: first day on the payroll (``None``: never on it).
        leave_date: last day on the payroll (``None``: still on it).
    """

    person_id: str
    category: str | None = None
    unit_id: str | None = None
    hire_date: dt.date | None = None
    leave_date: dt.date | None = None


@dataclass(frozen=True)
class Certificate:
    """An only-child certificate (光荣证): when it was issued and revoked, when the child was born.

    A missing issue or birth date (an unknown child) means the certificate is never paid.
    """

    issue_date: dt.date | None
    birth_date: dt.date | None
    revoked_date: dt.date | None = None


def month_of(day: dt.date) -> tuple[int, int]:
    """The month a day falls in, as ``(year, month)``: months compare in calendar order.

    Examples:
        >>> month_of(dt.date(2026, 2, 28)) <= month_of(dt.date(2026, 2, 1))
        True
    """
    return day.year, day.month


def birthday(birth: dt.date, years: int) -> dt.date:
    """The day a child born on ``birth`` turns ``years`` old.

    A 29 February birthday falls on 28 February in other years.

    Examples:
        >>> birthday(dt.date(2012, 2, 29), 14), birthday(dt.date(2012, 2, 29), 16)
        (datetime.date(2026, 2, 28), datetime.date(2028, 2, 29))
    """
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a year that has none
        return dt.date(birth.year + years, 2, 28)


def bureau_staff(person: Person | None) -> bool:
    """Whether a person is on the bureau's payroll at all: staff of a unit, with a hire date."""
    return (
        person is not None
        and person.category == "staff"
        and person.unit_id is not None
        and person.hire_date is not None
    )


def on_payroll(person: Person | None, month: dt.date) -> bool:
    """Whether a person is on the bureau's payroll in a month: ``month(hire) ≤ m ≤ month(leave)``.

    Examples:
        >>> p = Person("W", "staff", "U1", dt.date(2025, 7, 15), dt.date(2025, 9, 10))
        >>> [on_payroll(p, dt.date(2025, m, 1)) for m in (6, 7, 9, 10)]
        [False, True, True, False]
    """
    if not bureau_staff(person):
        return False
    m = month_of(month)
    if m < month_of(person.hire_date):
        return False
    return person.leave_date is None or m <= month_of(person.leave_date)


def amount_fen(month: dt.date, params: Params) -> int:
    """The monthly amount in force on the month's first day, in fen (``reward_monthly_yuan``)."""
    return yuan_to_fen(params.at("reward_monthly_yuan", month.replace(day=1)))


def entitled(certificate: Certificate, month: dt.date, params: Params) -> bool:
    """Whether the certificate is owed the reward for a month, whoever pays.

    From the month of issue (从领证之日起) through the month of the child's
    birthday at the age cap in force on the month's first day (满14周岁止;
    ``reward_age_cap``, 14 by default), the month of a revocation and later
    ones excluded.

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> c = Certificate(dt.date(2013, 1, 5), dt.date(2012, 2, 29), dt.date(2025, 5, 20))
        >>> [entitled(c, dt.date(y, m, 1), load_params()) for y, m in ((2012, 12), (2013, 1),
        ...     (2025, 4), (2025, 5))]
        [False, True, True, False]
    """
    if certificate.issue_date is None or certificate.birth_date is None:
        return False
    m = month_of(month)
    cap = params.at("reward_age_cap", month.replace(day=1))
    if not month_of(certificate.issue_date) <= m <= month_of(birthday(certificate.birth_date, cap)):
        return False
    return certificate.revoked_date is None or m < month_of(certificate.revoked_date)


def month_paid(
    certificate: Certificate, payee: Person | None, month: dt.date, params: Params
) -> bool:
    """Whether a month is paid with the payee's salary (``reward_split = payee``).

    It is when the certificate is :func:`entitled` to the month and the payee
    is :func:`on_payroll` in it.

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> c = Certificate(dt.date(2013, 1, 5), dt.date(2012, 2, 29))
        >>> mother = Person("W", "staff", "U1", dt.date(2000, 1, 1))
        >>> month_paid(c, mother, dt.date(2026, 2, 1), load_params())  # 14 on 2026-02-28
        True
        >>> month_paid(c, mother, dt.date(2026, 3, 1), load_params())
        False
        >>> month_paid(c, Person("W", "floating", "U1"), dt.date(2020, 1, 1), load_params())
        False
    """
    return entitled(certificate, month, params) and on_payroll(payee, month)


def payments(
    certificate: Certificate,
    payee: Person | None,
    month: dt.date,
    params: Params,
    *,
    wife: Person | None = None,
    husband: Person | None = None,
) -> dict[str, int]:
    """Fen each unit pays for one certificate in one month, under the split in force that month.

    ``reward_split = payee``: the payee's unit pays the amount in a month
    :func:`month_paid`. ``reward_split = half``, judged month by month
    (rulebook §5): each spouse on the payroll that month (:func:`on_payroll`)
    pays; half when the other spouse is on the payroll that month too, the
    payee's half with the odd fen (a payee who is neither spouse counts as the
    wife), all of it when the other is not (not yet hired, left, or no bureau
    staff at all).

    Args:
        certificate: the certificate.
        payee: its payee (``None``: nobody known).
        month: any day of the month; its first day decides the parameters.
        params: the parameters (``reward_monthly_yuan``, ``reward_age_cap``,
            ``reward_split``).
        wife: the couple's wife (``None``: nobody known), for ``half``.
        husband: the couple's husband (``None``: nobody known), for ``half``.

    Returns:
        ``{unit_id: fen}`` of the units that pay; empty when nobody does.

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> c = Certificate(dt.date(2013, 1, 5), dt.date(2012, 3, 15))
        >>> w = Person("W", "staff", "U1", dt.date(2000, 1, 1))
        >>> h = Person("H", "staff", "U2", dt.date(2000, 1, 1))
        >>> payments(c, w, dt.date(2020, 1, 1), load_params(), wife=w, husband=h)
        {'U1': 2000}
        >>> half = load_params().with_overrides({"reward_split": "half",
        ...     "reward_monthly_yuan": 25.01})
        >>> payments(c, h, dt.date(2020, 1, 1), half, wife=w, husband=h)
        {'U1': 1250, 'U2': 1251}
        >>> payments(c, h, dt.date(2020, 1, 1), half, wife=w, husband=Person("H", "outside"))
        {'U1': 2501}
        >>> gone = Person("H", "staff", "U2", dt.date(2000, 1, 1), dt.date(2025, 3, 9))
        >>> [payments(c, gone, dt.date(2025, m, 1), half, wife=w, husband=gone) for m in (3, 4)]
        [{'U1': 1250, 'U2': 1251}, {'U1': 2501}]
    """
    if not entitled(certificate, month, params):
        return {}
    amount = amount_fen(month, params)
    if params.at("reward_split", month.replace(day=1)) == "payee":
        return {payee.unit_id: amount} if on_payroll(payee, month) else {}
    payee_is_husband = (
        payee is not None and husband is not None and payee.person_id == husband.person_id
    )
    out: dict[str, int] = {}
    for spouse, other, payee_side in (
        (wife, husband, not payee_is_husband),
        (husband, wife, payee_is_husband),
    ):
        if not on_payroll(spouse, month):
            continue
        if not on_payroll(other, month):
            share = amount
        elif payee_side:
            share = amount - amount // 2
        else:
            share = amount // 2
        out[spouse.unit_id] = out.get(spouse.unit_id, 0) + share
    return out


def payment(
    certificate: Certificate, payee: Person | None, month: dt.date, params: Params, **spouses
) -> int:
    """Fen paid for one certificate in one month, every paying unit together.

    The sum of :func:`payments` (``spouses``: its ``wife`` and ``husband``).

    Examples:
        >>> from fpanalysis.core.params import load_params
        >>> c = Certificate(dt.date(2025, 3, 31), dt.date(2020, 1, 10))
        >>> w = Person("W", "staff", "U1", dt.date(2000, 1, 1))
        >>> [payment(c, w, dt.date(2025, m, 1), load_params()) for m in (2, 3)]
        [0, 2000]
    """
    return sum(payments(certificate, payee, month, params, **spouses).values())
