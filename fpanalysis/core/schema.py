"""Every table and column of the bureau's data, declared once in :data:`TABLES` (types, enums
with their Chinese labels, keys, references, Chinese headers, personal information, recorded
dates), the Chinese names of output-only columns and labels, typed empty frames and the
coercion of hand-written ones, and :func:`last_recorded_date`, the date every default period,
as-of date and start month comes from. Validation (:mod:`fpanalysis.io.validate`), the headers
and labels the loaders accept and the outputs write, the input templates and
``docs/data_dictionary.md`` are all built from it.

Examples:
    >>> TABLES["persons"].column("sex").labels["F"]
    '女'
    >>> TABLES["couples"].key
    ('couple_id',)
    >>> table_for_name("夫妻").name
    'couples'
    >>> list(empty_frame("children").dtypes.astype(str))
    ['str', 'str', 'datetime64[ns]', 'str']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from fpanalysis.core.labels import labels

# Column types (docs/data_dictionary.md) and the pandas dtype each is held in (docs/design.md).
DTYPES: Mapping[str, str] = MappingProxyType(
    {
        "id": "str",
        "text": "str",
        "enum": "str",
        "date": "datetime64[ns]",
        "bool": "boolean",
        "int": "Int64",
        "number": "float64",
        "set": "str",
    }
)

# Type names as a clerk reads them, for messages and templates.
TYPE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    labels(
        """
        id     | 编号                    | identifier
        text   | 文本                    | text
        enum   | 选项                    | one of the listed values
        date   | 日期                    | date (YYYY-MM-DD)
        bool   | 是/否                   | yes/no
        int    | 整数                    | whole number
        number | 数字                    | number
        set    | 多选（用 ; 或 、 分隔） | several values separated by ; or 、
        """
    )
)


@dataclass(frozen=True)
class Column:
    """One column: its English name, Chinese header, type and rules.

    Attributes:
        name: English name (outputs and code use it).
        zh: Chinese header (中文表头).
        type: one of :data:`DTYPES`.
        required: an empty cell is an error.
        labels: for enum/set columns, English code -> Chinese label (both accepted on input).
        references: ``"table.column"`` this column must resolve to.
        pii: personal information, masked in every output (rulebook §7).
        pii_kind: ``"name"`` or ``"id_number"``.
        min, max: bounds for int/number columns.
        note_zh, note_en: the rule the column keeps, for templates and the data dictionary.
        recorded: a date on which something happened and was recorded (a hire, a
            survey, a birth, an application), not a schedule or a birthday: the
            dataset's last recorded date, the default of every time-dependent
            option, is the latest of these (:func:`last_recorded_date`).
    """

    name: str
    zh: str
    type: str
    required: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    references: str | None = None
    pii: bool = False
    pii_kind: str | None = None
    min: float | None = None
    max: float | None = None
    note_zh: str = ""
    note_en: str = ""
    recorded: bool = False

    @property
    def dtype(self) -> str:
        return DTYPES[self.type]

    @property
    def codes(self) -> tuple[str, ...]:
        """The allowed English codes of an enum or set column."""
        return tuple(self.labels)

    def header(self, lang: str = "en") -> str:
        """The header to write for ``lang``."""
        return self.zh if lang == "zh" else self.name


@dataclass(frozen=True)
class Table:
    """One table: English and Chinese names, its columns and its key."""

    name: str
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description_zh: str = ""
    description_en: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}

    def header_map(self) -> dict[str, str]:
        """Every accepted header (English, Chinese, case- and space-insensitive) -> English name."""
        out = {}
        for c in self.columns:
            out[_norm_header(c.name)] = c.name
            out[_norm_header(c.zh)] = c.name
        return out


def _norm_header(h: str) -> str:
    return "".join(str(h).split()).lower().replace("（", "(").replace("）", ")")


SEX = {"F": "女", "M": "男"}
BOOL_NOTE = ("是/否", "yes/no")


def _c(name, zh, type_, **kw) -> Column:
    return Column(name, zh, type_, **kw)


TABLES_LIST: tuple[Table, ...] = (
    Table(
        "units",
        "单位",
        (
            _c("unit_id", "单位编号", "id", required=True),
            _c("name", "单位名称", "text", required=True),
            _c(
                "kind",
                "单位类型",
                "enum",
                required=True,
                labels={"section": "股室", "affiliated": "局属单位"},
            ),
            _c(
                "head_name",
                "负责人",
                "text",
                pii=True,
                pii_kind="name",
                note_zh="第一责任人",
                note_en="first responsible person",
            ),
            _c("liaison_name", "计生联络员", "text", pii=True, pii_kind="name"),
        ),
        ("unit_id",),
        "局机关股室和局属单位",
        "the bureau's sections and affiliated units",
    ),
    Table(
        "persons",
        "人员",
        (
            _c("person_id", "人员编号", "id", required=True),
            _c("name", "姓名", "text", required=True, pii=True, pii_kind="name"),
            _c(
                "id_number",
                "身份证号",
                "text",
                pii=True,
                pii_kind="id_number",
                note_zh="GB 11643 居民身份证号码",
                note_en="GB 11643 resident ID number",
            ),
            _c(
                "sex",
                "性别",
                "enum",
                required=True,
                labels=SEX,
                note_zh="与身份证号一致",
                note_en="agrees with id_number",
            ),
            _c(
                "birth_date",
                "出生日期",
                "date",
                required=True,
                note_zh="与身份证号一致",
                note_en="agrees with id_number",
            ),
            _c(
                "unit_id",
                "单位编号",
                "id",
                references="units.unit_id",
                note_zh="系统外配偶为空",
                note_en="empty for a spouse outside the system",
            ),
            _c(
                "category",
                "人员类别",
                "enum",
                required=True,
                labels={"staff": "干部职工", "floating": "流动人口", "outside": "系统外"},
            ),
            _c(
                "hire_date",
                "入职日期",
                "date",
                note_zh="干部职工必填",
                note_en="required for staff",
                recorded=True,
            ),
            _c(
                "leave_date",
                "离职日期",
                "date",
                note_zh="在职为空",
                note_en="empty while employed",
                recorded=True,
            ),
        ),
        ("person_id",),
        "干部职工、流动人口及其配偶",
        "staff, floating population and their spouses",
    ),
    Table(
        "couples",
        "夫妻",
        (
            _c("couple_id", "夫妻编号", "id", required=True),
            _c(
                "wife_id",
                "女方编号",
                "id",
                required=True,
                references="persons.person_id",
                note_zh="性别为女",
                note_en="sex F",
            ),
            _c(
                "husband_id",
                "男方编号",
                "id",
                required=True,
                references="persons.person_id",
                note_zh="性别为男",
                note_en="sex M",
            ),
            _c("marriage_date", "结婚日期", "date", required=True, recorded=True),
            _c("divorce_date", "离婚日期", "date", recorded=True),
        ),
        ("couple_id",),
    ),
    Table(
        "children",
        "子女",
        (
            _c("child_id", "子女编号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c("birth_date", "出生日期", "date", required=True, recorded=True),
            _c("sex", "性别", "enum", required=True, labels=SEX),
        ),
        ("child_id",),
    ),
    Table(
        "permits",
        "生育证",
        (
            _c("permit_id", "生育证号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c("issue_date", "发证日期", "date", required=True, recorded=True),
            _c("cancelled_date", "注销日期", "date", recorded=True),
            _c("cancel_reason", "注销原因", "text"),
        ),
        ("permit_id",),
    ),
    Table(
        "pregnancies",
        "妊娠",
        (
            _c("pregnancy_id", "妊娠编号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c("detected_date", "发现日期", "date", required=True, recorded=True),
            _c(
                "outcome",
                "结局",
                "enum",
                required=True,
                labels={
                    "ongoing": "妊娠中",
                    "birth": "分娩",
                    "termination": "终止妊娠",
                    "miscarriage": "自然流产",
                },
            ),
            _c(
                "outcome_date",
                "结局日期",
                "date",
                note_zh="妊娠中为空",
                note_en="empty while ongoing",
                recorded=True,
            ),
            _c(
                "gestation_weeks",
                "孕周",
                "int",
                min=0,
                max=45,
                note_zh="结局时孕周",
                note_en="at outcome",
            ),
            _c(
                "termination_reason",
                "终止原因",
                "enum",
                labels={
                    "medical": "医学需要",
                    "sex_selection": "选择性别",
                    "other": "其他",
                    "unknown": "不详",
                },
            ),
            _c("county_approved", "县计生委批准", "bool"),
            _c("designated_facility", "指定机构", "bool"),
            _c(
                "child_id",
                "子女编号",
                "id",
                references="children.child_id",
                note_zh="分娩时填写",
                note_en="for a birth",
            ),
        ),
        ("pregnancy_id",),
    ),
    Table(
        "surveys",
        "调查",
        (
            _c("survey_id", "调查编号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c("unit_id", "单位编号", "id", required=True, references="units.unit_id"),
            _c(
                "kind",
                "调查类型",
                "enum",
                required=True,
                labels={"baseline": "年初摸底", "followup": "半年跟踪"},
            ),
            _c("survey_date", "调查日期", "date", required=True, recorded=True),
            _c("problem_found", "发现问题", "bool", required=True),
            _c(
                "reported_date",
                "反馈日期",
                "date",
                note_zh="发现问题后向局反馈的日期",
                note_en="when a problem was reported to the bureau",
                recorded=True,
            ),
        ),
        ("survey_id",),
    ),
    Table(
        "check_rounds",
        "环孕检轮次",
        (
            _c(
                "round_id",
                "轮次编号",
                "id",
                required=True,
                note_zh="县计生部门安排",
                note_en="the county's schedule",
            ),
            _c("start_date", "开始日期", "date", required=True),
            _c(
                "end_date",
                "结束日期",
                "date",
                required=True,
                note_zh="不早于开始日期",
                note_en=">= start_date",
            ),
        ),
        ("round_id",),
    ),
    Table(
        "check_attendance",
        "环孕检记录",
        (
            _c("round_id", "轮次编号", "id", required=True, references="check_rounds.round_id"),
            _c(
                "person_id",
                "人员编号",
                "id",
                required=True,
                references="persons.person_id",
                note_zh="女性",
                note_en="a woman",
            ),
            _c("attended_date", "受检日期", "date", required=True, recorded=True),
        ),
        ("round_id", "person_id"),
    ),
    Table(
        "contraception",
        "节育措施",
        (
            _c("record_id", "记录编号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c(
                "person_id",
                "人员编号",
                "id",
                required=True,
                references="persons.person_id",
                note_zh="采取措施的一方",
                note_en="the spouse using it",
            ),
            _c(
                "method",
                "节育方法",
                "enum",
                required=True,
                labels={
                    "iud": "上环",
                    "female_sterilization": "女扎",
                    "male_sterilization": "男扎",
                    "implant": "皮埋",
                    "other": "其他",
                },
            ),
            _c("start_date", "开始日期", "date", required=True, recorded=True),
            _c("end_date", "结束日期", "date", recorded=True),
            _c(
                "falsified_found_date",
                "查实弄虚作假日期",
                "date",
                note_zh="查实弄虚作假",
                note_en="a verified falsification",
                recorded=True,
            ),
        ),
        ("record_id",),
    ),
    Table(
        "certificates",
        "光荣证",
        (
            _c("cert_id", "证号", "id", required=True),
            _c("couple_id", "夫妻编号", "id", required=True, references="couples.couple_id"),
            _c("child_id", "子女编号", "id", required=True, references="children.child_id"),
            _c(
                "issue_date",
                "领证日期",
                "date",
                required=True,
                note_zh="不早于子女出生日期",
                note_en="not before the child's birth",
                recorded=True,
            ),
            _c(
                "payee_id",
                "领取人编号",
                "id",
                required=True,
                references="persons.person_id",
                note_zh="父母一方",
                note_en="a parent",
            ),
            _c("revoked_date", "收回日期", "date", recorded=True),
        ),
        ("cert_id",),
    ),
    Table(
        "households",
        "低保户",
        (
            _c("household_id", "户编号", "id", required=True),
            _c("head_name", "户主姓名", "text", required=True, pii=True, pii_kind="name"),
            _c(
                "head_id_number",
                "户主身份证号",
                "text",
                pii=True,
                pii_kind="id_number",
                note_zh="与户主成员的出生日期、性别一致",
                note_en="agrees with the head member's birth date and sex",
            ),
            _c("area", "城乡", "enum", required=True, labels={"urban": "城镇", "rural": "农村"}),
            _c("township", "乡镇", "text"),
            _c(
                "size",
                "家庭人口",
                "int",
                required=True,
                min=1,
                note_zh="等于家庭成员数",
                note_en="equals the members listed",
            ),
            _c(
                "monthly_income",
                "家庭月收入",
                "number",
                required=True,
                min=0,
                note_zh="元，全户",
                note_en="yuan, whole household",
            ),
            _c("assessed_tier", "评定档次", "int", min=1, max=3),
            _c(
                "special_groups",
                "特困类别",
                "set",
                labels={
                    "widower": "鳏",
                    "widow": "寡",
                    "orphan": "孤",
                    "disabled": "残",
                    "other": "其他",
                },
            ),
            _c("infertile", "不育", "bool"),
            _c(
                "declared_fp_type",
                "申报计生类型",
                "enum",
                labels={
                    "only_daughter": "独女户",
                    "two_daughters_sterilized": "二女结扎户",
                    "infertile": "不育户",
                },
            ),
            _c("application_date", "申请日期", "date", required=True, recorded=True),
            _c("receiving", "在保", "bool", note_zh="目前享受低保", note_en="receives relief now"),
            _c("last_review_date", "最近复核日期", "date", recorded=True),
        ),
        ("household_id",),
    ),
    Table(
        "household_members",
        "家庭成员",
        (
            _c("member_id", "成员编号", "id", required=True),
            _c("household_id", "户编号", "id", required=True, references="households.household_id"),
            _c(
                "relation",
                "关系",
                "enum",
                required=True,
                labels={"head": "户主", "spouse": "配偶", "child": "子女", "other": "其他"},
            ),
            _c("sex", "性别", "enum", required=True, labels=SEX),
            _c("birth_date", "出生日期", "date"),
            _c("sterilized", "已结扎", "bool"),
            _c("disabled", "残疾", "bool"),
        ),
        ("member_id",),
    ),
)

TABLES: Mapping[str, Table] = MappingProxyType({t.name: t for t in TABLES_LIST})
#: Small reference tables a partitioned dataset holds whole in every partition (the others are
#: cut by record: a couple, a household and everything that belongs to it in one partition).
REFERENCE_TABLES = ("units", "check_rounds")

# Columns that only outputs have, with their Chinese headers. Analyses add theirs here so
# that `--lang zh` finds every header in one place.
OUTPUT_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        # common
        "period": "考核期",
        "month": "月份",
        "year": "年度",
        "date": "日期",
        "rule": "违反规定",
        "action": "处理措施",
        "reason_zh": "理由",
        "reason_en": "理由（英文）",
        "message_zh": "说明",
        "message_en": "说明（英文）",
        # personal information in outputs (masked by privacy.mask_frame, rulebook §7)
        "wife_name": "女方姓名",
        "husband_name": "男方姓名",
        "payee_name": "领取人姓名",
        "unit_head_name": "单位负责人",
        "party_name": "当事人姓名",
        "approved_by": "审批人",
        "wife_id_number": "女方身份证号",
        "husband_id_number": "男方身份证号",
        # compliance (rulebook §3)
        "baseline_coverage": "年初摸底调查覆盖率",
        "followup_coverage": "半年跟踪调查覆盖率",
        "feedback_timeliness": "信息反馈及时率",
        "check_attendance": "环孕检到检率",
        "falsifications": "节育弄虚作假",
        "out_of_plan_births": "计划外生育",
        "pregnancies_without_permit": "未持证怀孕",
        "unapproved_late_terminations": "违规大月份引产",
        "score": "得分",
        "grade": "等次",
        "veto": "一票否决",
        "indicator": "指标",
        "numerator": "分子",
        "denominator": "分母",
        "in_numerator": "计入分子",
        "unit_name": "单位名称",
        "part": "半年/轮次",
        "event_id": "事件编号",
        "in_denominator": "计入分母",
        "penalty": "扣分",
        "value": "数值",
        "first_date": "首次违规日期",
        "violations": "违规情形",
        "quota_cancelled_from": "生育指标注销日期",
        "cancellation_basis": "注销依据",
        "timeline_zh": "时间线",
        "timeline_en": "时间线（英文）",
        "action_zh": "处理措施",
        "action_en": "处理措施（英文）",
        # bonus (rulebook §5)
        "committed_yuan": "已发证应付金额（元）",
        "new_p10_yuan": "新增预测P10（元）",
        "new_p50_yuan": "新增预测P50（元）",
        "new_p90_yuan": "新增预测P90（元）",
        "liability_yuan": "剩余负债（元）",
        "liability_discounted_yuan": "剩余负债现值（元）",
        "scenario": "情景",
        "certificates": "光荣证数",
        "months_due": "应发月数",
        "outside_yuan": "预算外应发金额（元）",
        # relief (rulebook §6)
        "rank": "排名",
        "eligible": "符合低保条件",
        "tier": "困难档次",
        "fp_type": "计生类型",
        "per_capita_income_yuan": "人均月收入（元）",
        "standard_yuan": "低保标准（元/人/月）",
        "entitlement_yuan": "月保障金（元）",
        "selected": "拟纳入",
        "transition": "变动",
        "review_due": "应复核",
        "selection": "纳入情况",
        "pool": "资金池",
        "tier_basis": "档次依据",
        "cumulative_yuan": "累计月保障金（元）",
        "incumbent": "在保户",
        "previous_tier": "上期档次",
        "previously_selected": "上期在保",
        "income_changed": "收入有变化",
        "review_months": "复核周期（月）",
        "next_review_date": "下次复核日期",
        "side": "位置",
        "separated_by_zh": "区分依据",
        "separated_by_en": "区分依据（英文）",
        # the committee's procedure (rulebook §6)
        "stage": "阶段",
        "decision": "评议意见",
        "decision_reason": "评议理由",
        "decided_tier": "调整后档次",
        "proposed_tier": "拟定档次",
        "passes_over": "越过的户",
        "category": "类别",
        "approved_on": "审批日期",
        "register_key": "登记簿户键",
        # the register's rounds and histories (history, review --units)
        "round_kind": "轮次类型",
        "seq": "记录序号",
        "as_of": "基准日",
        "recorded_at": "记录时间（UTC）",
        "package_version": "程序版本",
        "params_sha256": "参数摘要（SHA-256）",
        "supersedes": "取代的轮次",
        "superseded_by": "被此轮次取代",
        "note": "备注",
        "params_json": "参数（JSON）",
        "override_text": "参数覆盖文件内容",
        "inputs_json": "输入文件（JSON）",
        "options_json": "选项（JSON）",
        "listed": "本轮列有此户",
        "previous_round_id": "上期轮次编号",
        "previous_period": "上期考核期",
        "previous_grade": "上期等次",
        "previous_score": "上期得分",
    }
)

_GRADES = MappingProxyType({"excellent": "优秀", "pass": "合格", "fail": "不合格"})

# Chinese labels of enum values that only outputs have.
OUTPUT_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "grade": _GRADES,
        "previous_grade": _GRADES,
        "round_kind": MappingProxyType({"compliance": "单位考核", "relief": "低保评议"}),
        # compliance indicators and accountability rules (rulebook §3, §4)
        "indicator": MappingProxyType(
            {
                "baseline_coverage": "年初摸底调查覆盖率",
                "followup_coverage": "半年跟踪调查覆盖率",
                "feedback_timeliness": "信息反馈及时率",
                "check_attendance": "环孕检到检率",
                "falsifications": "节育弄虚作假",
                "out_of_plan_births": "计划外生育",
                "pregnancies_without_permit": "未持证怀孕",
                "unapproved_late_terminations": "违规大月份引产",
            }
        ),
        "rule": MappingProxyType(
            {
                "falsifications": "节育弄虚作假",
                "out_of_plan_births": "计划外生育",
                "pregnancies_without_permit": "未持证怀孕",
                "unapproved_late_terminations": "违规大月份引产",
                "sex_selective_termination": "选择性别终止妊娠",
            }
        ),
        "cancellation_basis": MappingProxyType(
            {"recorded": "县注销日期", "termination_date": "引产日期（未记录注销）"}
        ),
        "fp_type": MappingProxyType(
            {
                "only_daughter": "独女户",
                "two_daughters_sterilized": "二女结扎户",
                "infertile": "不育户",
            }
        ),
        "transition": MappingProxyType(
            {
                # a household between relief rounds (review)
                "enter": "新纳入",
                "continue": "继续",
                "exit": "退出",
                "tier_change": "档次变动",
                # a unit between compliance rounds (review --units)
                "improved": "等次上升",
                "declined": "等次下降",
                "unchanged": "等次未变",
                "new": "新列入考核",
                "dropped": "不再考核",
            }
        ),
        # relief (rulebook §6)
        "selection": MappingProxyType(
            {
                "continuing": "继续保障",
                "admitted": "新纳入",
                "waiting": "候补未纳入",
                "not_eligible": "不符合条件",
                "rejected": "评议未通过",
                "withdrawn": "异议成立撤销",
            }
        ),
        "stage": MappingProxyType(
            {"proposed": "拟定", "decided": "已评议", "noticed": "已公示", "approved": "已审批"}
        ),
        "decision": MappingProxyType(
            {"confirm": "同意", "reject": "不同意", "change_tier": "调整档次", "admit": "补充纳入"}
        ),
        "pool": MappingProxyType({"all": "城乡合并", "urban": "城镇", "rural": "农村"}),
        "tier_basis": MappingProxyType(
            {"assessed": "评议评定", "ratio": "按收入比", "committee": "民主评议调整"}
        ),
        "side": MappingProxyType({"above": "线上（纳入）", "below": "线下（未纳入）"}),
    }
)


def table_for_name(name: str) -> Table:
    """Find a table by its English or Chinese name (file stem or sheet name).

    Raises:
        KeyError: no such table.
    """
    n = _norm_header(name)
    for t in TABLES_LIST:
        if n in (_norm_header(t.name), _norm_header(t.zh)):
            return t
    raise KeyError(name)


def zh_header(column: str, table: str | None = None) -> str:
    """The Chinese header of an input or output column (falls back to the English name)."""
    if table is not None and table in TABLES:
        try:
            return TABLES[table].column(column).zh
        except KeyError:
            pass
    if column in OUTPUT_COLUMNS:
        return OUTPUT_COLUMNS[column]
    for t in TABLES_LIST:
        for c in t.columns:
            if c.name == column:
                return c.zh
    return column


def empty_frame(table: str) -> pd.DataFrame:
    """A correctly typed frame of ``table`` with no rows (index named ``row``)."""
    t = TABLES[table]
    df = pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in t.columns})
    df.index = pd.Index([], dtype="int64", name="row")
    return df


def coerce(
    table: str, df: pd.DataFrame | list[dict] | dict, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Turn a hand-written frame into the typed form the rules expect.

    For tests and notebooks, and for typed Parquet read without validation:
    dates may be ISO strings (a time of day is dropped: dates are midnight),
    booleans Python bools, missing columns are added empty. Not a validator:
    bad values raise. The index becomes the file row numbers 2, 3, ... as if
    read from a file. ``columns``: only these of the table's columns (in the
    table's order), for a computation that needs no others.

    Examples:
        >>> df = coerce("couples", [{"couple_id": "C1", "wife_id": "P1", "husband_id": "P2",
        ...                          "marriage_date": "2020-05-01"}])
        >>> df.loc[2, "marriage_date"].date(), df["divorce_date"].isna().all()
        (datetime.date(2020, 5, 1), np.True_)
    """
    t = TABLES[table]
    df = pd.DataFrame(df).copy()
    unknown = [c for c in df.columns if c not in t.names]
    if unknown:
        raise KeyError(f"{table} has no columns {unknown}")
    out = {}
    n = len(df)
    keep = None if columns is None else set(columns)
    for c in t.columns:
        if keep is not None and c.name not in keep:
            continue
        s = df[c.name] if c.name in df.columns else pd.Series([None] * n, index=df.index)
        if c.type == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]").dt.normalize()
        elif c.type in ("id", "text", "enum", "set"):
            s = s.astype("str").where(s.notna())
        else:
            s = s.astype(c.dtype)
        out[c.name] = s.reset_index(drop=True)
    res = pd.DataFrame(out)
    res.index = pd.RangeIndex(2, 2 + n, name="row")
    return res


def last_recorded_date(
    tables: Mapping[str, pd.DataFrame], among: Iterable[str]
) -> pd.Timestamp | None:
    """The latest recorded date (columns declared ``recorded``) in those tables ``among`` present.

    Each analysis passes the tables it reads, so its default period, as-of date
    or start month comes from its own data, never from today's date (rulebook,
    general conventions). None when none of those columns holds a date.

    Examples:
        >>> h = coerce("households", pd.DataFrame({"application_date": ["2025-03-01"],
        ...     "last_review_date": ["2025-06-30"]}))
        >>> last_recorded_date({"households": h}, among=["households"])
        Timestamp('2025-06-30 00:00:00')
        >>> last_recorded_date({}, among=["households"]) is None
        True
    """
    latest = []
    for name in among:
        df = tables.get(name)
        if df is None:
            continue
        for c in TABLES[name].columns:
            if c.recorded and c.name in df and df[c.name].notna().any():
                latest.append(pd.Timestamp(df[c.name].max()))
    return max(latest) if latest else None
