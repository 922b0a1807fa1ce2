"""``fpanalysis explain`` on the sample's smallest cases, the expected text written by hand from the
data rows (rulebook §3, §5, §6), run as ``python -m fpanalysis explain`` in a subprocess and through
the Python API; its help, its errors and its masking (rulebook §7).

How the expected texts were computed, from ``data/sample``:

- Unit U07 社会事务股, 2024H1. Its people (``persons.unit_id = U07``) are in the couples C0001
  (husband P00301 floating; wife P00001 born 1973-07-05: 50 on 2024-01-01 and on 2024-03-14),
  C0045 (wife P00045 hired only 2025-06-27, husband outside: nobody staff or floating in 2024),
  C0076 (husband P00376 floating), C0124 (wife P00124 floating), C0283 (wife P00283 floating),
  C0281 (husband P00581 staff of U07, wife P00281 staff of U06: the wife's unit answers) and
  C0287 (wife P00287 staff, born 1970-04-09: 53). So C1 has no staff couple (0/0, counts as 1);
  C2 H1 counts C0076, C0124, C0283, of which C0076 (S002886, 2024-06-26) and C0124 (S002865,
  2024-06-07) have a follow-up in the half (C0283's is 2024-11-29): 2/3; no survey found a problem
  (C3 0/0); round R2024-1 (2024-03-14 to 03-29) requires the three floating wives, none sterilised
  or pregnant, and all three attended (03-15, 03-23, 03-20): 3/3; no event in the half. Score
  100 × (0.25 × 1 + 0.25 × 2/3 + 0.15 × 1 + 0.35 × 3/3) = 100 × 11/12 = 91.666… → 91.67,
  excellent (≥ 90), no veto.
- Household H0287 on 2025-12-31 with a quota of 182: rural, 2 persons, income 544.00, no child,
  infertile recorded (so infertile, an FP priority type); rural standard 600 (from 2025-01-01);
  544.00 < 1200.00 eligible; ratio 544/1200 = 0.4533, tier 2; entitlement 656. Counting the
  eligible households by hand: 226; above H0287 are every tier-1 household and the tier-2 FP
  households with a lower per-capita income, 47 of them (rank 48), the last two H0120 (243.00)
  and H0231 (254.00, receiving); next comes H0050 (278.25, receiving). 169 eligible households
  receive relief now, so 182 − 169 = 13 places for newcomers, and 13 newcomers rank above H0287:
  it is the first that does not fit; 57 − 13 = 44 newcomers wait.
- Certificate GRZ00024 from 2026-01 for 36 months: child K00208 born 2013-06-28, 14 on
  2027-06-28, so paid 2026-01 to 2027-06 (18 months × 20.00 by the payee P00117's unit U03, on the
  payroll since 2014-04-13) and not from 2027-07: 360.00.
- Certificate GRZ00035 from 2025-01 for 12 months: revoked 2025-05-02, so paid 2025-01 to 2025-04
  by the payee P00349's unit U20 (80.00) and not from 2025-05; with ``reward_split: half`` and
  25.01 yuan a month, the wife P00049 (U19) and the husband P00349 (U20, the payee, the odd fen)
  are both on the payroll: 12.50 + 12.51 a month, 50.00 + 50.04.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from fpanalysis.cli import main
from fpanalysis.core import config
from fpanalysis.core.params import load_params
from fpanalysis.io import load_for_analysis
from fpanalysis.rules import bonus, compliance, explain, relief

pytestmark = pytest.mark.skipif(
    not (config.SAMPLE_DIR / "units.csv").exists(), reason="sample data not generated"
)

UNIT_U07_ZH = """\
单位 U07 社会事务股（股室）考核期 2024H1（2024-01-01 至 2024-06-30）的得分与等次（规则手册 §3）
  负责人（第一责任人）郭*，计生联络员 刘*（§1.1）
C1 年初摸底调查覆盖率（§3 C1）：0/0，分母为 0，按 1 计
  【不计入】C0001（余*）：女方 2024-01-01 时 50 周岁，不在育龄 15–49 岁（§2.1）
  【不计入】C0045（刘*）：2024-01-01 夫妻双方都不是本局职工或登记的流动人口，不在本局范围内：\
P00045 2025-06-27 才入职（§2.4）
  【不计入】C0076（李*）：流动人口夫妻，C1 只计职工夫妻（§3 C1）
  【不计入】C0124（陈*）：流动人口夫妻，C1 只计职工夫妻（§3 C1）
  【不计入】C0281（孙*）：由 U06 负责：P00581 是 U07 的职工；双方都是职工时取女方单位（§2.4）
  【不计入】C0283（张**）：流动人口夫妻，C1 只计职工夫妻（§3 C1）
  【不计入】C0287（范**）：女方 2024-01-01 时 53 周岁，不在育龄 15–49 岁（§2.1）
C2 半年跟踪调查覆盖率（§3 C2）：2/3 ≈ 0.6667
  2024H1（2024-01-01 在范围内的夫妻）：2/3 ≈ 0.6667
    【计入】C0076（李*）：（流动人口）半年跟踪调查 S002886（2024-06-26）
    【计入】C0124（陈*）：（流动人口）半年跟踪调查 S002865（2024-06-07）
    【未达标】C0283（张**）：（流动人口）2024H1 内无半年跟踪调查
    【不计入】C0001（余*）：女方 2024-01-01 时 50 周岁，不在育龄 15–49 岁（§2.1）
    【不计入】C0045（刘*）：2024-01-01 夫妻双方都不是本局职工或登记的流动人口，不在本局范围内：\
P00045 2025-06-27 才入职（§2.4）
    【不计入】C0281（孙*）：由 U06 负责：P00581 是 U07 的职工；双方都是职工时取女方单位（§2.4）
    【不计入】C0287（范**）：女方 2024-01-01 时 53 周岁，不在育龄 15–49 岁（§2.1）
C3 信息反馈及时率（§3 C3）：0/0，分母为 0，按 1 计
C4 环孕检到检率（§3 C4）：3/3 = 1
  轮次 R2024-1（2024-03-14 至 2024-03-29）：3/3 = 1
    【计入】C0076（李*）：已于 2024-03-15 受检
    【计入】C0124（陈*）：已于 2024-03-23 受检
    【计入】C0283（张**）：已于 2024-03-20 受检
    【不计入】C0001（余*）：女方 2024-03-14 时 50 周岁，不在育龄 15–49 岁（§2.1）
    【不计入】C0045（刘*）：2024-03-14 夫妻双方都不是本局职工或登记的流动人口，不在本局范围内：\
P00045 2025-06-27 才入职（§2.4）
    【不计入】C0281（孙*）：由 U06 负责：P00581 是 U07 的职工；双方都是职工时取女方单位（§2.4）
    【不计入】C0287（范**）：女方 2024-03-14 时 53 周岁，不在育龄 15–49 岁（§2.1）
C5 节育弄虚作假（§3 C5）：0 起
C6 计划外生育（§3 C6）：0 起
C7 未持证怀孕（§3 C7）：0 起
C8 违规大月份引产（§3 C8）：0 起
扣分（§3.4）：无
得分（§3.4）：100 × (0.25 × 1 + 0.25 × 2/3 + 0.15 × 1 + 0.35 × 3/3) − 0 = 91.666666… → 91.67\
（精确计算，最后四舍五入保留 2 位小数）
等次（§3.6）：91.67 ≥ 90：优秀
一票否决（§3.7）：无
"""

HOUSEHOLD_H0287_EN = """\
household H0287 (head 吕*, ID number 411722********7853; rural, 东洪乡, 2 persons) as of \
2025-12-31: eligibility, rank and selection (rulebook §6)
applied on 2024-12-07, on or before 2025-12-31: in this round (§6.6)
per-capita income (§6.7): household income 544.00 yuan / 2 = 272 yuan (ranked on this exact \
value), shown as 272.00 yuan
standard (§6.2): rural 600 yuan per person a month (in force on 2025-12-31)
eligibility (§6.2): household income 544.00 yuan < 600 x 2 = 1200.00 yuan: eligible
tier (§6.3): income ratio = household income / (standard x size) = 544.00 / 1200.00 = 0.4533, \
0.3 ≤ 0.4533 < 0.6: tier 2
FP type (§6.4, from the members): infertile household: no children and infertility recorded
entitlement (§6.8): 1200.00 - 544.00 = 656.00 yuan, rounded up to 656 yuan a month
ranking keys (§6.5, in the order tier, FP priority, per-capita income, application date, \
household id): tier 2; an FP priority household; 272.00 yuan; 2024-12-07; H0287
rank (§6.5): 48 of 226 eligible households in the joint urban and rural pool: same tier, FP \
priority as H0231 (rank 47) just above; separated by per-capita income: 272.00 yuan here, \
254.00 yuan there
  just above: rank 47 H0231: tier 2, an FP priority household, 254.00 yuan a head, continuing
  just below: rank 49 H0050: tier 2, an FP priority household, 278.25 yuan a head, continuing
selected (§6.9): no; waiting: the quota of 182 is used up (169 continuing, 13 admitted). \
Selection stops here in rank order; every household below waits too (skipping this one would \
break the priority)
  the pool: quota 182 households; 169 continuing, 13 admitted, 44 waiting (§6.9)
"""

HOUSEHOLD_H0287_ZH = """\
户 H0287（户主 吕*，身份证号 411722********7853；农村，东洪乡，2 人）基准日 2025-12-31 的\
低保资格、排序与选定（规则手册 §6）
申请日期 2024-12-07，不晚于基准日 2025-12-31：参加本轮（§6.6）
人均月收入（§6.7）：家庭月收入 544.00 元 ÷ 2 人 = 272 元（排序用此精确值），显示为 272.00 元
低保标准（§6.2）：农村 600 元/人/月（2025-12-31 有效）
资格（§6.2）：家庭月收入 544.00 元 < 600 × 2 = 1200.00 元：符合低保条件
档次（§6.3）：按收入比 = 家庭月收入 ÷（标准 × 人数）= 544.00 ÷ 1200.00 = 0.4533，\
0.3 ≤ 0.4533 < 0.6：二档
计生类型（§6.4，按家庭成员认定）：不育户：无子女，且登记为不育
月保障金（§6.8）：1200.00 − 544.00 = 656.00 元，向上取整为 656 元
排序键（§6.5，依次为档次、计生优先、人均月收入、申请日期、户编号）：二档；计生优先户；272.00 元；\
2024-12-07；H0287
名次（§6.5）：城乡合并资金池第 48 名（共 226 户符合条件）：与上一名 H0231（第 47 名）档次、计生优先\
相同，由人均月收入区分：本户 272.00 元，上一名 254.00 元
  上一名：第 47 名 H0231：二档，计生优先户，人均 254.00 元，继续保障
  下一名：第 49 名 H0050：二档，计生优先户，人均 278.25 元，继续保障
选定（§6.9）：否；未纳入：名额 182 户已用完（在保户 169 户，新纳入 13 户）。按排序在此停止，\
其后各户均不纳入（跳过本户会打乱优先次序）
  本资金池：名额 182 户；继续保障 169 户，新纳入 13 户，候补 44 户（§6.9）
"""

CERT_GRZ00024_ZH = """\
光荣证 GRZ00024（夫妻 C0117，子女 K00208 生于 2013-06-28，领证 2014-06-13，未收回）\
2026-01 至 2028-12 逐月发放（规则手册 §5）
  领取人（女方）P00117 季**：本局职工，U03，2014-04-13 入职，在职（§5.1）
  男方 P00417 张*：系统外，不在本局工资表上（§5.1）
  2026-01 至 2027-06（18 个月）：发放 20.00 元（当月 1 日有效的金额，§5.3），由领取人 P00117 的\
单位 U03 随工资发放（reward_split = payee，§5.4）
  2027-07 至 2028-12（18 个月）：不发放：子女 2027-06-28 满 14 周岁，发放至当月止\
（年龄上限取当月 1 日有效的 14 岁，§5.2、§5.3）
  合计：18 个月发放，共 360.00 元（U03 360.00 元）
"""

CERT_GRZ00035_EN = """\
certificate GRZ00035 (couple C0049, child K00278 born 2019-05-18, issued 2020-03-10, revoked \
2025-05-02): 2025-01 to 2025-12, month by month (rulebook §5)
  payee (husband) P00349 李*: bureau staff, U20, hired 2017-09-10, still employed (§5.1)
  wife P00049 周**: bureau staff, U19, hired 2014-09-28, still employed (§5.1)
  2025-01 to 2025-04 (4 months): paid 20.00 yuan (the amount in force on the month's first day, \
§5.3) by the payee P00349's unit U20 with the salary (reward_split = payee, §5.4)
  2025-05 to 2025-12 (8 months): not paid: revoked on 2025-05-02, not paid from that month on \
(§5.2)
  total: 4 months paid, 80.00 yuan (U20 80.00 yuan)
"""

CERT_GRZ00035_HALF_EN = """\
certificate GRZ00035 (couple C0049, child K00278 born 2019-05-18, issued 2020-03-10, revoked \
2025-05-02): 2025-01 to 2025-12, month by month (rulebook §5)
  payee (husband) P00349 李*: bureau staff, U20, hired 2017-09-10, still employed (§5.1)
  wife P00049 周**: bureau staff, U19, hired 2014-09-28, still employed (§5.1)
  2025-01 to 2025-04 (4 months): paid 25.01 yuan (the amount in force on the month's first day \
is 25.01 yuan, §5.3): both spouses are on the payroll: each pays half, the odd fen on the payee's \
side (reward_split = half, §5.4): U19 12.50 yuan (wife P00049), U20 12.51 yuan (husband P00349)
  2025-05 to 2025-12 (8 months): not paid: revoked on 2025-05-02, not paid from that month on \
(§5.2)
  total: 4 months paid, 100.04 yuan (U19 50.00 yuan, U20 50.04 yuan)
"""

HALF = "reward_split: half\nreward_monthly_yuan: 25.01\n"

#: (argv after ``explain``, the override file's text or None, expected stdout)
CASES = [
    pytest.param(["unit", "U07", "--period", "2024H1"], None, UNIT_U07_ZH, id="unit-U07-2024H1-zh"),
    pytest.param(
        ["household", "H0287", "--as-of", "2025-12-31", "--quota", "182", "--lang", "en"],
        None,
        HOUSEHOLD_H0287_EN,
        id="household-H0287-cut-line-en",
    ),
    pytest.param(
        ["household", "H0287", "--as-of", "2025-12-31", "--quota", "182"],
        None,
        HOUSEHOLD_H0287_ZH,
        id="household-H0287-cut-line-zh",
    ),
    pytest.param(
        ["certificate", "GRZ00024", "--start", "2026-01", "--months", "36"],
        None,
        CERT_GRZ00024_ZH,
        id="certificate-GRZ00024-age-cap-zh",
    ),
    pytest.param(
        ["certificate", "GRZ00035", "--start", "2025-01", "--months", "12", "--lang", "en"],
        None,
        CERT_GRZ00035_EN,
        id="certificate-GRZ00035-revoked-en",
    ),
    pytest.param(
        ["certificate", "GRZ00035", "--start", "2025-01", "--months", "12", "--lang", "en"],
        HALF,
        CERT_GRZ00035_HALF_EN,
        id="certificate-GRZ00035-half-split-en",
    ),
]


def explain_in_a_subprocess(*argv: str) -> subprocess.CompletedProcess:
    """``python -m fpanalysis explain ARGV``, its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "fpanalysis", "explain", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def _option(argv: list[str], name: str, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def api_text(argv: list[str], params) -> str:
    """The same trace through the Python API (what the notebooks call)."""
    kind, key = argv[0], argv[1]
    lang = _option(argv, "--lang", "zh")
    if kind == "unit":
        tables = load_for_analysis(config.SAMPLE_DIR, compliance.TABLES_NEEDED)
        trace = explain.explain_unit(tables, key, _option(argv, "--period"), params)
    elif kind == "household":
        tables = load_for_analysis(config.SAMPLE_DIR, list(relief.RELIEF_TABLES))
        quota = _option(argv, "--quota")
        trace = explain.explain_household(
            tables,
            key,
            _option(argv, "--as-of"),
            params,
            quota=None if quota is None else int(quota),
        )
    else:
        tables = load_for_analysis(config.SAMPLE_DIR, bonus.TABLES_NEEDED)
        trace = explain.explain_certificate(
            tables, key, _option(argv, "--start"), int(_option(argv, "--months")), params
        )
    return trace.text(lang) + "\n"


@pytest.mark.parametrize("argv, overrides, expected", CASES)
def test_by_hand_through_the_command_line(argv, overrides, expected, tmp_path):
    extra = []
    if overrides is not None:
        (tmp_path / "p.yaml").write_text(overrides, encoding="utf-8")
        extra = ["--params", str(tmp_path / "p.yaml")]
    run = explain_in_a_subprocess(*argv, *extra)
    assert run.returncode == 0, run.stderr
    assert run.stdout == expected
    assert run.stderr == ""


@pytest.mark.parametrize("argv, overrides, expected", CASES)
def test_by_hand_through_the_python_api(argv, overrides, expected, tmp_path):
    params = load_params()
    if overrides is not None:
        (tmp_path / "p.yaml").write_text(overrides, encoding="utf-8")
        params = load_params(tmp_path / "p.yaml")
    assert api_text(argv, params) == expected


# --------------------------------------------------------------------------- help and errors


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["explain", "--help"], id="explain"),
        pytest.param(["explain", "unit", "--help"], id="unit"),
        pytest.param(["explain", "household", "--help"], id="household"),
        pytest.param(["explain", "certificate", "--help"], id="certificate"),
    ],
)
def test_help_is_bilingual(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "规则手册" in out
    assert "rulebook" in out
    assert "追溯" in out
    assert "trace" in out


def test_explain_is_listed_in_the_command_list(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "explain" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, lang_text",
    [
        pytest.param(
            ["explain", "unit", "U7", "--period", "2024H1"],
            "数据集中没有单位 U7；最接近的编号：U07",
            id="unknown-unit-zh",
        ),
        pytest.param(
            ["explain", "household", "H287", "--lang", "en"],
            "no household H287 in the dataset; the closest ids: H0287",
            id="unknown-household-en",
        ),
        pytest.param(
            ["explain", "certificate", "GRZ0024", "--lang", "en"],
            "no certificate GRZ0024 in the dataset; the closest ids: GRZ00024",
            id="unknown-certificate-en",
        ),
        pytest.param(
            ["explain", "certificate", "NOPE"],
            "数据集中没有光荣证 NOPE [",
            id="unknown-certificate-nothing-close",
        ),
        pytest.param(
            ["explain", "unit", "U07", "--period", "2024H3", "--lang", "en"],
            "period '2024H3' not understood",
            id="bad-period",
        ),
        pytest.param(
            ["explain", "household", "H0287", "--as-of", "2025-13-01", "--lang", "en"],
            "--as-of must be a date YYYY-MM-DD",
            id="bad-as-of",
        ),
        pytest.param(
            ["explain", "household", "H0287", "--quota", "-1", "--lang", "en"],
            "--quota must not be negative",
            id="negative-quota",
        ),
        pytest.param(
            ["explain", "certificate", "GRZ00024", "--start", "2026/01", "--lang", "en"],
            "a month must be written YYYY-MM",
            id="bad-start",
        ),
    ],
)
def test_errors_are_bilingual_usage_errors(argv, lang_text, capsys):
    assert main(argv) == 2
    assert lang_text in capsys.readouterr().err


def test_no_kind_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["explain"])
    assert exc.value.code == 2


def test_reveal_pii_shows_names_and_says_so():
    argv = ["household", "H0287", "--as-of", "2025-12-31", "--reveal-pii", "--lang", "en"]
    run = explain_in_a_subprocess(*argv)
    assert run.returncode == 0, run.stderr
    assert "head 吕兵, ID number 411722197812197853" in run.stdout
    assert "--reveal-pii" in run.stderr
