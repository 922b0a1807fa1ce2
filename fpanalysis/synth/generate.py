"""The whole county: :func:`generate` draws every table from one seed, a numpy generator per
component, and returns them typed and sorted by key (:class:`SynthTables`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.synth.cases import cancel_permits, script_cases
from fpanalysis.synth.common import (
    BOY_SHARE,
    NEVER,
    START_DAY,
    SynthTables,
    couple_ix,
    dibao_standards,
    serial_ids,
    to_dt,
    to_dt_or_nat,
    typed_table,
)
from fpanalysis.synth.events import (
    draw_attendance,
    draw_check_rounds,
    draw_contraception,
    draw_surveys,
)
from fpanalysis.synth.families import draw_certificates, simulate_reproduction
from fpanalysis.synth.faults import inject_faults
from fpanalysis.synth.households import draw_households
from fpanalysis.synth.people import Names, assign_unit_heads, make_people, make_units

DEFAULT_SEED = 20241
DEFAULT_COUPLES = 300
# a numpy generator each, spawned from SeedSequence(seed) in this order: a change in one
# component does not reshuffle the others
_COMPONENTS = (
    "units",
    "people",
    "repro",
    "script",
    "contra",
    "certs",
    "surveys",
    "checks",
    "households",
    "faults",
)


def generate(
    seed: int = DEFAULT_SEED, people: int | None = None, faults: bool = False
) -> SynthTables:
    """Generate a synthetic county bureau's dataset: every table of the data dictionary, typed.

    Args:
        seed: the seed; the same seed (and ``people``) gives the same tables.
        people: the number of couples (default 300, the county sample); the
            households number the same, units grow past 300 couples.
        faults: add the data-entry errors of :data:`FAULTS` (for testing
            ``validate``); the clean default has none.

    Returns:
        table name -> frame with the English columns of ``docs/data_dictionary.md`` in schema
        order and the dtypes of ``docs/design.md``, rows sorted by key, index
        the file row number (2, 3, ...). With ``faults`` the log of what was
        added is ``result.faults``.

    Raises:
        ValueError: ``people`` below 1.

    Examples:
        >>> from fpanalysis.core.schema import TABLES
        >>> t = generate(seed=7, people=40)
        >>> sorted(t) == sorted(TABLES)
        True
        >>> t["couples"]["couple_id"].is_unique
        True
        >>> generate(seed=7, people=40)["persons"].equals(t["persons"])
        True
    """
    n = DEFAULT_COUPLES if people is None else int(people)
    if n < 1:
        raise ValueError("people must be at least 1")
    rngs = dict(
        zip(
            _COMPONENTS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(seed).spawn(len(_COMPONENTS))
            ),
            strict=True,
        )
    )
    units = make_units(rngs["units"], n, Names(rngs["units"]))
    diligence = rngs["units"].uniform(0.3, 2.5, len(units))
    dil = pd.Series(diligence, index=units["unit_id"].to_numpy())
    n_script = min(max(2, round(n / 150)), max(1, n // 5))
    couples, persons = make_people(rngs["people"], n, units, Names(rngs["people"]), n_script)
    units = assign_unit_heads(rngs["units"], units, persons)

    rng = rngs["repro"]
    preg, kids, permits, target = simulate_reproduction(rng, couples)
    kids["sex"] = np.where(rng.random(len(kids)) < BOY_SHARE, "M", "F")
    sp, sk, sb, sx, sj = script_cases(rngs["script"], couples, preg, kids, permits)
    preg = pd.concat([preg, sp], ignore_index=True)
    kids = pd.concat([kids, sk], ignore_index=True)
    permits = pd.concat([permits, sb], ignore_index=True)

    # ---- children
    kids = kids.sort_values(["birth", "c"], kind="mergesort").reset_index(drop=True)
    kids["child_id"] = serial_ids("K", len(kids), 5)
    c_id = couples["couple_id"].to_numpy()
    children = typed_table(
        "children",
        {
            "child_id": kids["child_id"],
            "couple_id": c_id[couple_ix(kids)],
            "birth_date": to_dt(kids["birth"]),
            "sex": kids["sex"],
        },
    )

    # ---- permits and their cancellations
    permits = cancel_permits(rng, couples, preg, permits, sx)
    # every permit is kept, back to the oldest child's: an old birth is not out of plan for want
    # of a record
    permits = permits.sort_values(["issue", "c"], kind="mergesort").reset_index(drop=True)
    permits_t = typed_table(
        "permits",
        {
            "permit_id": serial_ids("SYZ", len(permits), 5),
            "couple_id": c_id[couple_ix(permits)],
            "issue_date": to_dt(permits["issue"]),
            "cancelled_date": to_dt(
                permits["cancelled"].fillna(0).astype("int64"), permits["cancelled"].notna()
            ),
            "cancel_reason": permits["reason"],
        },
    )

    # ---- pregnancies: the register holds those ending since its start, and the ongoing ones
    rec_p = preg[(preg["out_day"] >= START_DAY)].copy()
    births_no_record = (
        (rec_p["outcome"] == "birth")
        & (rng.random(len(rec_p)) < 0.08)
        & ~couples["scripted"].to_numpy()[couple_ix(rec_p)]
    )
    rec_p = rec_p[~births_no_record.to_numpy()]
    first_kid = kids.groupby(["c", "birth"], as_index=False)["child_id"].min()
    rec_p = rec_p.merge(
        first_kid.rename(columns={"birth": "out_day"}), on=["c", "out_day"], how="left"
    )
    rec_p.loc[rec_p["outcome"] != "birth", "child_id"] = None
    rec_p = rec_p.sort_values(["detected", "c"], kind="mergesort").reset_index(drop=True)
    ongoing = rec_p["outcome"] == "ongoing"
    pregnancies = typed_table(
        "pregnancies",
        {
            "pregnancy_id": serial_ids("G", len(rec_p), 5),
            "couple_id": c_id[couple_ix(rec_p)],
            "detected_date": to_dt(rec_p["detected"]),
            "outcome": rec_p["outcome"],
            "outcome_date": to_dt(np.where(ongoing, 0, rec_p["out_day"]), ~ongoing),
            "gestation_weeks": pd.array(np.where(ongoing, 0, rec_p["weeks"]), dtype="Int64").astype(
                "Int64"
            ),
            "termination_reason": rec_p["reason"],
            "county_approved": pd.array(rec_p["approved"].to_numpy(), dtype="Float64").astype(
                "boolean"
            ),
            "designated_facility": pd.array(rec_p["designated"].to_numpy(), dtype="Float64").astype(
                "boolean"
            ),
            "child_id": rec_p["child_id"],
        },
    )
    pregnancies.loc[pregnancies["outcome"] == "ongoing", "gestation_weeks"] = pd.NA

    # ---- contraception
    contra = pd.concat(
        [draw_contraception(rngs["contra"], couples, preg, target), sj], ignore_index=True
    )
    contra = contra.sort_values(["start", "c"], kind="mergesort").reset_index(drop=True)
    who_id = np.where(
        contra["who"] == "wife",
        couples["wife_id"].to_numpy()[couple_ix(contra)],
        couples["husband_id"].to_numpy()[couple_ix(contra)],
    )
    contraception = typed_table(
        "contraception",
        {
            "record_id": serial_ids("J", len(contra), 5),
            "couple_id": c_id[couple_ix(contra)],
            "person_id": who_id,
            "method": contra["method"],
            "start_date": to_dt(contra["start"]),
            "end_date": to_dt_or_nat(contra["end"]),
            "falsified_found_date": to_dt_or_nat(contra["falsified"]),
        },
    )

    # ---- certificates
    certs = draw_certificates(rngs["certs"], couples, kids, target)
    certs = certs.sort_values(["issue", "c"], kind="mergesort").reset_index(drop=True)
    certificates = typed_table(
        "certificates",
        {
            "cert_id": serial_ids("GRZ", len(certs), 5),
            "couple_id": c_id[couple_ix(certs)],
            "child_id": certs["child_id"],
            "issue_date": to_dt(certs["issue"]),
            "payee_id": certs["payee"],
            "revoked_date": to_dt_or_nat(certs["revoked"]),
        },
    )

    # ---- surveys, check rounds and attendance
    sv = draw_surveys(rngs["surveys"], couples, units, diligence)
    sv = sv.sort_values(["day", "c", "kind"], kind="mergesort").reset_index(drop=True)
    surveys = typed_table(
        "surveys",
        {
            "survey_id": serial_ids("S", len(sv), 6),
            "couple_id": c_id[couple_ix(sv)],
            "unit_id": sv["unit"],
            "kind": sv["kind"],
            "survey_date": to_dt(sv["day"]),
            "problem_found": sv["problem"],
            "reported_date": to_dt_or_nat(sv["reported"]),
        },
    )
    rounds = draw_check_rounds(rngs["checks"])
    check_rounds = typed_table(
        "check_rounds",
        {
            "round_id": rounds["round_id"],
            "start_date": to_dt(rounds["start"]),
            "end_date": to_dt(rounds["end"]),
        },
    )
    rec_for_checks = rec_p.assign(
        out_day=np.where(rec_p["outcome"] == "ongoing", NEVER, rec_p["out_day"])
    )
    att = draw_attendance(rngs["checks"], couples, rounds, rec_for_checks, contra, dil)
    check_attendance = typed_table(
        "check_attendance",
        {
            "round_id": att["round_id"],
            "person_id": couples["wife_id"].to_numpy()[couple_ix(att)],
            "attended_date": to_dt(att["day"]),
        },
    )

    # ---- households
    hh, members = draw_households(
        rngs["households"],
        n,
        Names(rngs["households"]),
        dibao_standards(),
        set(persons["id_number"]),
    )

    couples_t = typed_table(
        "couples",
        {
            "couple_id": c_id,
            "wife_id": couples["wife_id"],
            "husband_id": couples["husband_id"],
            "marriage_date": to_dt(couples["marriage"]),
            "divorce_date": to_dt(
                np.where(couples["divorced"], couples["divorce"], 0), couples["divorced"]
            ),
        },
    )
    out = SynthTables(
        units=typed_table("units", units.to_dict("series")),
        persons=typed_table("persons", persons.to_dict("series")),
        couples=couples_t,
        children=children,
        permits=permits_t,
        pregnancies=pregnancies,
        surveys=surveys,
        check_rounds=check_rounds,
        check_attendance=check_attendance,
        contraception=contraception,
        certificates=certificates,
        households=typed_table("households", hh.to_dict("series")),
        household_members=typed_table("household_members", members.to_dict("series")),
    )
    if faults:
        out = inject_faults(out, rngs["faults"])
    return out
