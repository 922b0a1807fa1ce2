"""The rulebook §4 case, scripted so that the case list is never empty, and the recorded
cancellations of birth permits (after a sex-selective termination or a divorce)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fpanalysis.synth.common import END_DAY, NEVER, couple_ix, day_of, uniform_int
from fpanalysis.synth.families import CONTRA_DTYPES, KID_DTYPES, PERMIT_DTYPES, PREG_DTYPES

CANCEL_SEX_SELECTION = "选择性别终止妊娠，取消生育指标"
CANCEL_DIVORCE = "夫妻离婚，注销未使用的生育证"


def script_cases(rng, couples, preg, kids, permits):
    """The rulebook §4 story of each scripted couple, after its first child (``docs/synth.md``).

    Alternately (A) the county's cancellation is recorded and a son is born
    later without a permit, and (B) no cancellation is recorded, a new permit
    is issued (not valid under rulebook §4) and another pregnancy follows. A loop over a
    handful of couples (``couples/150``), not over table rows.

    Returns (pregnancies, children, permits, cancellations, contraception) to append.
    """
    idx = np.flatnonzero(couples["scripted"].to_numpy())
    first_birth = kids.groupby("c")["birth"].min()
    next_pid = int(permits["pid"].max()) + 1 if len(permits) else 0
    P, K, B, X, J = [], [], [], [], []

    def u(lo, hi):
        return int(rng.integers(lo, hi + 1))

    for i, c in enumerate(idx):
        y0 = 2019 + (i // 2) % 4
        fb = int(first_birth.loc[c])
        variant_a = i % 2 == 0
        issue1 = day_of(f"{y0}-02-01" if variant_a else f"{y0}-03-01") + u(0, 30)
        lmp1 = issue1 + u(40, 100)
        w1 = u(18, 22) if variant_a else u(14, 15)
        det1 = lmp1 + 7 * u(7, 9) + u(0, 6)
        out1 = lmp1 + 7 * w1 + u(0, 6)
        pid1 = next_pid
        next_pid += 1
        B.append({"pid": pid1, "c": c, "issue": issue1, "used_day": NEVER})
        P.append(
            {
                "c": c,
                "conception": lmp1 + 14,
                "detected": det1,
                "outcome": "termination",
                "out_day": out1,
                "weeks": w1,
                "reason": "sex_selection",
                "approved": 0.0 if variant_a else np.nan,
                "designated": 0.0 if variant_a else 1.0,
                "planned": True,
                "permit": pid1,
            }
        )
        if variant_a:
            X.append({"pid": pid1, "cancelled": out1 + u(30, 90), "reason": CANCEL_SEX_SELECTION})
            lmp2 = out1 + u(200, 400)
        else:
            issue2 = out1 + u(180, 300)
            B.append({"pid": next_pid, "c": c, "issue": issue2, "used_day": NEVER})
            next_pid += 1
            lmp2 = issue2 + u(60, 200)
        det2 = lmp2 + 7 * 7 + u(0, 6)
        w2 = u(38, 40)
        out2 = lmp2 + 7 * w2 + u(0, 6)
        ongoing = out2 > END_DAY
        P.append(
            {
                "c": c,
                "conception": lmp2 + 14,
                "detected": det2,
                "outcome": "ongoing" if ongoing else "birth",
                "out_day": NEVER if ongoing else out2,
                "weeks": w2,
                "reason": None,
                "approved": np.nan,
                "designated": np.nan,
                "planned": True,
                "permit": -1,
            }
        )
        if not ongoing:
            K.append({"c": c, "birth": out2, "twin": False, "sex": "M"})
        start = fb + u(60, 200)
        end = lmp1 - u(30, 90)
        if end > start:
            J.append(
                {
                    "c": c,
                    "who": "wife",
                    "method": "iud",
                    "start": start,
                    "end": end,
                    "falsified": NEVER,
                }
            )
    cols = {
        "P": list(preg.columns),
        "K": ["c", "birth", "twin", "sex"],
        "B": ["pid", "c", "issue", "used_day"],
    }
    return (
        pd.DataFrame(P, columns=cols["P"]).astype(PREG_DTYPES),
        pd.DataFrame(K, columns=cols["K"]).astype(KID_DTYPES),
        pd.DataFrame(B, columns=cols["B"]).astype(PERMIT_DTYPES),
        pd.DataFrame(X, columns=["pid", "cancelled", "reason"]).astype(
            {"pid": "int64", "cancelled": "int64"}
        ),
        pd.DataFrame(J, columns=["c", "who", "method", "start", "end", "falsified"]).astype(
            CONTRA_DTYPES
        ),
    )


def cancel_permits(rng, couples, preg, permits, scripted: pd.DataFrame) -> pd.DataFrame:
    """``permits`` with their recorded cancellations (``cancelled`` day, ``reason``) merged in.

    ``scripted``: the cancellations of the scripted cases. Half of the other
    sex-selective terminations by permit holders have the county's
    cancellation recorded; divorced couples' unused permits are cancelled.
    """
    x = [scripted]
    sel = preg[
        (preg["reason"] == "sex_selection") & (preg["permit"] >= 0) & (preg["approved"] != 1.0)
    ]
    sel = sel[~couples["scripted"].to_numpy()[couple_ix(sel)]]
    rec = rng.random(len(sel)) < 0.5
    x.append(
        pd.DataFrame(
            {
                "pid": sel["permit"].to_numpy()[rec],
                "cancelled": sel["out_day"].to_numpy()[rec]
                + uniform_int(rng, 20, 120, int(rec.sum())),
                "reason": CANCEL_SEX_SELECTION,
            }
        )
    )
    div = couples["divorce"].to_numpy()[couple_ix(permits)]
    unused = (
        couples["divorced"].to_numpy()[couple_ix(permits)]
        & (permits["issue"] < div)
        & (permits["used_day"] > div)
    )
    dv = permits[unused]
    x.append(
        pd.DataFrame(
            {
                "pid": dv["pid"],
                "cancelled": div[unused.to_numpy()] + uniform_int(rng, 10, 90, len(dv)),
                "reason": CANCEL_DIVORCE,
            }
        )
    )
    x = pd.concat(x, ignore_index=True)
    x = (
        x[x["cancelled"] <= END_DAY]
        .sort_values(["pid", "cancelled"], kind="mergesort")
        .drop_duplicates("pid")
    )
    permits = permits.merge(x, on="pid", how="left")
    return permits
