"""A planted-defect corpus: clean clinic and bank dialogues (Chinese and English) with each defect planted
into a known subset; every code must be found with recall and precision of at least 0.95.

The clean dialogues hold what must not be reported: replies that end on a list, a code block, a URL, an
emoji or a sign-off; numbers restated correctly beside reference values ("应低于140/90"); mixed text
("你的 credit card 额度"); Jinja placeholders inside code; tool calls that fit their declared schema;
dialogues that end on a tool call. Each planted dialogue gets one defect, with the turn it is expected at:

- role_order: a system turn mid-dialogue, a user turn removed, a second user turn, a stray tool turn;
- empty_turn, ends_with_user (a new question appended), no_user (system and one reply left);
- repeated_turn: a reply, or a question, copied word for word into the next one of its speaker;
- echo_reply: the reply replaced by the question (as is, re-punctuated, lower-cased, after a greeting);
- language_mismatch: a reply of the other language's corpus;
- truncated: a reply cut mid-sentence past its middle, after at least one full sentence (a one-clause
  reply cut short cannot be told from an unpunctuated one), never right after a particle or a closing
  bracket, nor inside a list, link or sign-off; or cut inside its code block;
- placeholder: {{name}}, {customer_name}, {客户姓名}, [NAME], <PATIENT_NAME>, ${user} in a system, user or
  assistant turn;
- number_drift: a figure the reply restates from the user or a tool result, one digit changed;
- tool_arguments: broken JSON, an undeclared tool, a missing required argument, a wrong type or enum value;
- long_reply: a reply padded past 8,000 characters.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.validators import Consistency

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL
SEED = 20240607
N_CLEAN = 800
N_PLANTED = 80
FLOOR = 0.95

Key = tuple[int, str, int | None]


@dataclass
class Exchange:
    """A user turn and what answers it (maybe a tool call and its result), with the figures restated."""

    turns: list[Turn]
    figures: tuple[str, ...] = ()
    plain: bool = True


@dataclass
class Draft:
    """A clean dialogue under construction; `replies` maps an exchange's reply index to its figures."""

    lang: str
    domain: str
    turns: list[Turn]
    tools: tuple[dict, ...] = ()
    replies: dict[int, tuple[str, ...]] = field(default_factory=dict)
    plain_replies: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    topics: set[str] = field(default_factory=set)

    def dialogue(self) -> Dialogue:
        return Dialogue(turns=tuple(self.turns), tools=self.tools)


def _u(text: str) -> Turn:
    return Turn(role=U, content=text)


def _a(text: str) -> Turn:
    return Turn(role=A, content=text)


# ---------------------------------------------------------------------------------------------- topics


def zh_clinic_bp(r: random.Random) -> Exchange:
    age, high, low = r.randint(35, 75), r.randint(142, 178), r.randint(88, 108)
    grade = "2级高血压范围" if high >= 160 or low >= 100 else "1级高血压范围"
    user = r.choice(
        [
            f"医生您好，我今年{age}岁，最近量血压是{high}/{low}，有时候头晕，需要吃药吗？",
            f"我血压{high}/{low}，{age}岁，这个严重吗？",
            f"早上测的血压{high}/{low}mmHg，下午又正常了，要紧吗？",
        ]
    )
    reply = r.choice(
        [
            f"您好！您的血压{high}/{low}mmHg已经高于正常范围（一般应低于140/90mmHg）。建议您：\n"
            "1. 连续一周早晚各测一次血压并记录\n2. 少吃盐，每天不超过5克\n"
            "3. 尽快到心内科就诊，由医生决定是否用药\n\n"
            "祝您早日康复😊",
            f"您测得的血压{high}/{low}，属于{grade}。单次测量不能确诊高血压，建议安静休息10分钟后复测，"
            "并记录一周的数据。如果多次都在140/90以上，请到心内科就诊。",
        ]
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{high}/{low}",))


def zh_clinic_fever(r: random.Random) -> Exchange:
    age, temp = r.randint(2, 9), r.choice([37.8, 38.2, 38.6, 38.9, 39.1, 39.4])
    level = "属于低热" if temp < 38.5 else "属于中高热"
    reply = (
        f"您孩子的体温{temp}℃，{level}。可以先多喝水、减少衣物帮助散热；如果体温超过38.5℃且孩子明显不舒服，"
        "可以按说明书服用退烧药。出现持续高热超过3天、精神差或抽搐时，请及时就医。"
    )
    if r.random() < 0.7:
        user = f"孩子{age}岁，昨晚开始发烧，体温{temp}℃，精神还可以，要去医院吗？"
        return Exchange([_u(user), _a(reply)], figures=(f"{temp}℃",))
    return Exchange([_u(f"宝宝发烧{temp}度，{age}岁了，能在家观察吗？"), _a(reply)])


def zh_clinic_glucose(r: random.Random) -> Exchange:
    glucose, dose = r.choice([7.6, 7.8, 8.4, 9.1, 9.3, 8.7]), r.choice([250, 500, 850])
    user = f"我在吃二甲双胍，每次{dose}mg，一天两次，空腹血糖还是{glucose}，正常吗？"
    reply = (
        f"您的空腹血糖{glucose}mmol/L，仍高于控制目标（一般为4.4-7.0mmol/L）。二甲双胍每次{dose}mg、一天两次是"
        "常用剂量，请不要自行加量。建议复诊时带上近两周的血糖记录，让医生评估是否需要调整方案。"
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{glucose}mmol",))


def zh_clinic_cough(r: random.Random) -> Exchange:
    if r.random() < 0.5:
        return Exchange(
            [
                _u("咳嗽两周了，晚上更厉害，有点黄痰，需要拍片吗？"),
                _a(
                    "咳嗽超过两周建议到呼吸科就诊，医生可能会安排血常规和胸片检查。平时多喝温水，避免辛辣刺激"
                    "饮食，家里保持通风。如果出现高热、咳血或呼吸困难，请立即就医。"
                ),
            ]
        )
    return Exchange(
        [
            _u("最近老是干咳，嗓子痒，是不是过敏？"),
            _a(
                "干咳、嗓子痒常见于咽炎或过敏，可以先做到以下几点：\n- 多喝温水，少说话\n- 远离烟雾和花粉\n"
                "- 睡前用温盐水漱口\n\n症状持续一周以上，请到耳鼻喉科就诊。"
            ),
        ]
    )


def zh_clinic_booking(r: random.Random) -> Exchange:
    reply = r.choice(
        [
            "有的，周六上午有皮肤科普通门诊。您可以通过以下方式挂号：\n- 医院微信公众号“预约挂号”\n"
            "- 官网 https://www.example-hospital.cn/booking\n- 门诊大厅自助机",
            "有的，周六上午开诊。可以直接在线预约：https://www.example-hospital.cn/booking",
        ]
    )
    return Exchange([_u("请问周六有皮肤科门诊吗？怎么挂号？"), _a(reply)])


def zh_clinic_bmi(r: random.Random) -> Exchange:
    height, weight = r.randint(150, 185), r.randint(45, 95)
    bmi = weight / (height / 100) ** 2
    verdict = (
        "属于偏瘦，注意均衡营养。"
        if bmi < 18.5
        else "在正常范围内。"
        if bmi < 24
        else "属于超重。"
        if bmi < 28
        else "属于肥胖。"
    )
    reply = f"您身高{height}cm、体重{weight}kg，BMI约为{bmi:.1f}，{verdict}建议每周至少150分钟中等强度运动。"
    return Exchange([_u(f"我身高{height}cm，体重{weight}kg，算胖吗？"), _a(reply)], figures=(f"{height}cm",))


def zh_clinic_code(r: random.Random) -> Exchange:
    reply = (
        "可以这样写：\n\n```python\ndef bmi(weight_kg, height_m):\n"
        "    return round(weight_kg / height_m ** 2, 1)\n\n"
        "print(bmi(65, 1.70))  # 22.5\n```"
    )
    if r.random() < 0.5:
        reply += "\n\n其中身高的单位是米，体重的单位是千克。"
    return Exchange([_u("怎么用Python根据身高体重算BMI？"), _a(reply)])


def zh_bank_limit(r: random.Random) -> Exchange:
    limit = r.choice([5000, 8000, 10000, 15000, 20000, 30000])
    user = r.choice(
        [
            f"你好，我的信用卡额度是{limit}元，想提到{limit * 2}元，可以吗？",
            f"信用卡额度只有{limit}元，不够用，怎么提额？",
        ]
    )
    reply = (
        f"您好，您当前的信用卡额度为{limit}元。提额一般需要用卡满6个月且近期无逾期，您可以在手机银行APP"
        "“信用卡-额度管理”中提交申请，系统会根据您的用卡情况评估。"
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{limit}元",))


def zh_bank_transfer(r: random.Random) -> Exchange:
    amount, tail = r.choice([800, 1500, 2600, 3000, 5200, 12000]), r.randint(1000, 9999)
    user = f"我昨天给尾号{tail}的账户转账{amount}元，对方说没收到，怎么办？"
    reply = (
        f"您好，您昨天向尾号{tail}的账户转账{amount}元。跨行转账一般2小时内到账，最晚不超过24小时。请先在手机银行"
        "“转账记录”中确认状态；若显示成功但对方仍未收到，请携带身份证到任一网点办理查询。"
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{amount}元",))


def zh_bank_lost(r: random.Random) -> Exchange:
    user = r.choice(["我的银行卡丢了，怎么挂失？", "卡丢了怎么办，着急！"])
    reply = (
        "请立即拨打客服热线95588办理临时挂失，也可以在手机银行“卡片管理”中一键挂失。临时挂失有效期为5天，"
        "之后请携带身份证到网点办理正式挂失和补卡。"
    )
    return Exchange([_u(user), _a(reply)])


def zh_bank_loan(r: random.Random) -> Exchange:
    amount, years = r.choice([20, 30, 50, 80]), r.choice([3, 5, 10, 20, 30])
    reply = (
        f"您好，您想贷款{amount}万元、期限{years}年，目前个人贷款年利率一般在3.45%至4.2%之间，具体以审批结果为准。"
        "实时报价可以在这里查看：https://bank.example.cn/loan"
    )
    return Exchange(
        [_u(f"我想贷款{amount}万元，期限{years}年，利率大概多少？"), _a(reply)], figures=(f"{amount}万元",)
    )


def zh_bank_mixed(r: random.Random) -> Exchange:
    if r.random() < 0.5:
        return Exchange(
            [
                _u("你的 credit card 额度怎么查？"),
                _a("您可以在手机银行APP首页点击“信用卡”，再选择“额度查询”，就能看到总额度和可用额度。"),
            ]
        )
    return Exchange(
        [
            _u("请问 credit card 的 annual fee 怎么免？"),
            _a("信用卡年费一般在一年内刷卡满6次即可免除次年年费，具体以卡片权益说明为准。"),
        ]
    )


def zh_bank_code(r: random.Random) -> Exchange:
    reply = (
        "可以用标准库 csv 写出：\n\n```python\nimport csv\n\n"
        'with open("transactions.csv", "w", newline="") as f:\n    writer = csv.writer(f)\n'
        '    writer.writerow(["date", "amount"])\n    writer.writerows(rows)\n```\n\n'
        "其中 `rows` 是从接口取回的交易列表。"
    )
    return Exchange([_u("怎么用Python把交易流水导出成CSV？"), _a(reply)])


def en_clinic_bp(r: random.Random) -> Exchange:
    age, high, low = r.randint(35, 75), r.randint(142, 178), r.randint(88, 108)
    grade = "stage 2" if high >= 160 or low >= 100 else "stage 1"
    user = f"Hi doctor, I'm {age} and my blood pressure was {high}/{low} this morning. Should I be worried?"
    reply = r.choice(
        [
            f"Thanks for the details. Your blood pressure of {high}/{low} mmHg is above the normal range"
            " (below "
            "120/80). One reading is not a diagnosis, so:\n1. Measure it twice a day for a week.\n"
            "2. Cut down on salt and alcohol.\n3. Book a visit with your GP to review the readings.",
            f"I understand your concern. Your blood pressure of {high}/{low} mmHg falls in the {grade}"
            " range, so it "
            "is worth following up. Please re-check it after resting for five minutes, and if it stays above "
            "140/90, see your doctor within a week.",
        ]
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{high}/{low}",))


def en_clinic_fever(r: random.Random) -> Exchange:
    age, temp = r.randint(2, 9), r.choice([37.8, 38.2, 38.6, 38.9, 39.1, 39.4])
    level = "a low-grade fever" if temp < 38.5 else "a moderate fever"
    user = f"My son is {age} and has had a fever of {temp}°C since last night. Should I take him to the ER?"
    reply = (
        f"Your son's fever of {temp}°C is {level}. Keep him hydrated and dress him lightly. Go to the"
        " emergency "
        "room if he has trouble breathing, a stiff neck, or the fever lasts more than three days."
    )
    return Exchange([_u(user), _a(reply)], figures=(f"{temp}°C",))


def en_clinic_cholesterol(r: random.Random) -> Exchange:
    ldl = r.randint(130, 190)
    level = "borderline high" if ldl < 160 else "high"
    reply = (
        f"Your LDL cholesterol of {ldl} mg/dL is {level}. For most adults the target is below 100 mg/dL."
        " Diet "
        "changes help: more fibre, fewer fried foods, and regular exercise. Your doctor may suggest a statin "
        "depending on your overall risk."
    )
    return Exchange(
        [_u(f"My LDL cholesterol is {ldl} mg/dL. Is that high?"), _a(reply)], figures=(f"{ldl} mg",)
    )


def en_clinic_booking(r: random.Random) -> Exchange:
    reply = r.choice(
        [
            "Yes, the dermatology clinic is open on Saturday mornings. You can book in any of these ways:\n"
            "- Online at https://www.example-hospital.com/booking\n- By phone on weekdays\n- At the front"
            " desk",
            "Yes, it is open on Saturday mornings. The quickest way is to book online: "
            "https://www.example-hospital.com/booking",
        ]
    )
    return Exchange([_u("Can I book a dermatology appointment for Saturday?"), _a(reply)])


def en_clinic_sleep(r: random.Random) -> Exchange:
    reply = (
        "Sorry to hear that. A few habits help most people:\n\n- Keep the same bedtime every day\n"
        "- No screens in the hour before bed\n- Avoid caffeine in the afternoon\n\n"
        "If it goes on for more than a month, talk to your doctor 🙂"
    )
    return Exchange([_u("I've been sleeping badly for weeks. Any tips?"), _a(reply)])


def en_clinic_code(r: random.Random) -> Exchange:
    if r.random() < 0.5:
        reply = (
            "Here is a small function:\n\n```python\ndef bmi(weight_kg: float, height_m: float) -> float:\n"
            "    return round(weight_kg / height_m ** 2, 1)\n```"
        )
        return Exchange([_u("How do I compute BMI in Python?"), _a(reply)])
    reply = (
        "If the email is rendered with Jinja, use a variable for each field:\n\n```html\n"
        "<p>Dear {{ patient.name }},</p>\n<p>Your appointment is on {{ date }}.</p>\n```\n\n"
        "The mail service fills both fields when it sends the reminder."
    )
    return Exchange([_u("How do I put the patient's name into our reminder email template?"), _a(reply)])


def en_bank_declined(r: random.Random) -> Exchange:
    tail = r.randint(1000, 9999)
    reply = (
        f"Sorry about that. I checked the usual causes for a card ending in {tail}: the daily limit, a"
        " fraud hold, "
        "or an expired card. Please open the Alerts tab in the app; if there is a fraud hold, confirm the "
        "purchase there and try again."
    )
    return Exchange([_u(f"My card ending in {tail} was declined at a shop today. Why?"), _a(reply)])


def en_bank_transfer(r: random.Random) -> Exchange:
    amount = r.choice([250, 480, 1200, 2500, 3600])
    user = f"I made a transfer of ${amount:,} to my landlord yesterday but he hasn't received it yet."
    reply = (
        f"I'm sorry for the wait. Your transfer of ${amount:,} left your account yesterday, and transfers"
        " to other "
        "banks can take up to two business days. If it has not arrived by then, reply here and we will"
        " trace it."
    )
    return Exchange([_u(user), _a(reply)], figures=(f"${amount:,}",))


def en_bank_limit(r: random.Random) -> Exchange:
    limit = r.choice([2000, 3500, 5000, 8000, 12000])
    reply = (
        f"Your current credit limit of ${limit:,} can be reviewed after six months of on-time payments. You"
        " can "
        "request an increase in the app under Cards, and we usually reply within two business days."
    )
    user = f"My credit limit is ${limit:,}. Can I raise it to ${limit * 2:,}?"
    return Exchange([_u(user), _a(reply)], figures=(f"${limit:,}",))


def en_bank_deposit(r: random.Random) -> Exchange:
    reply = (
        "Our 12-month fixed deposit currently pays 2.1% a year, and the minimum deposit is $500. The rate is "
        "fixed for the whole term. You can open one in the app or at any branch."
    )
    return Exchange([_u("What's the interest rate on a 12-month fixed deposit?"), _a(reply)])


def en_bank_statement(r: random.Random) -> Exchange:
    reply = (
        "Of course. I have sent your statement for last month to the email address on file; it should arrive "
        "within an hour.\n\nBest regards,\nNorthbank Support"
    )
    return Exchange([_u("Can you send me a statement for last month?"), _a(reply)])


def en_bank_code(r: random.Random) -> Exchange:
    reply = (
        "You can write the rows with the standard csv module:\n\n```python\nimport csv\n\n"
        'with open("transactions.csv", "w", newline="") as f:\n    csv.writer(f).writerows(rows)\n```\n\n'
        "Here `rows` is the list returned by the transactions API."
    )
    return Exchange([_u("How can I export my transactions to CSV with Python?"), _a(reply)])


def en_bank_branches(r: random.Random) -> Exchange:
    reply = (
        "You can find every branch and its opening hours on our [branch finder]"
        "(https://www.northbank.example/branches) page [1]."
    )
    return Exchange([_u("Where can I find your branch opening hours?"), _a(reply)])


TOOLS = {
    "get_balance": {
        "name": "get_balance",
        "description": "Return the balance of an account.",
        "parameters": {
            "type": "object",
            "properties": {"account_id": {"type": "string"}},
            "required": ["account_id"],
        },
    },
    "transfer": {
        "name": "transfer",
        "description": "Move money between the user's accounts.",
        "parameters": {
            "type": "object",
            "properties": {
                "from_account": {"type": "string"},
                "to_account": {"type": "string"},
                "amount": {"type": "number"},
                "currency": {"type": "string", "enum": ["USD", "CNY", "EUR"]},
            },
            "required": ["from_account", "to_account", "amount"],
        },
    },
    "book_appointment": {
        "name": "book_appointment",
        "description": "Book an outpatient appointment.",
        "parameters": {
            "type": "object",
            "properties": {
                "department": {"type": "string"},
                "date": {"type": "string"},
                "time": {"type": "string", "enum": ["morning", "afternoon"]},
            },
            "required": ["department", "date"],
        },
    },
}
DOMAIN_TOOLS = {"bank": ("get_balance", "transfer"), "clinic": ("book_appointment",)}


def _tool_exchange(user: str, name: str, arguments: dict, result: dict, reply: str, figures=()) -> Exchange:
    call = ToolCall(name=name, arguments=json.dumps(arguments, ensure_ascii=False), id="call_1")
    turns = [
        _u(user),
        Turn(role=A, tool_calls=(call,)),
        Turn(role=T, content=json.dumps(result, ensure_ascii=False), tool_call_id="call_1"),
        _a(reply),
    ]
    return Exchange(turns, figures=tuple(figures), plain=False)


def en_bank_balance_tool(r: random.Random) -> Exchange:
    balance = round(r.uniform(100, 9000), 2)
    user = r.choice(["What's my checking account balance?", "How much money do I have in checking?"])
    args = {"account_id": f"chk-{r.randint(1000, 9999)}"}
    reply = f"Your checking account balance is ${balance:,.2f}."
    result = {"balance": balance, "currency": "USD"}
    return _tool_exchange(user, "get_balance", args, result, reply, (f"${balance:,.2f}",))


def en_bank_transfer_tool(r: random.Random) -> Exchange:
    amount = r.choice([50, 120, 300, 750])
    args = {"from_account": "checking", "to_account": "savings", "amount": amount, "currency": "USD"}
    result = {"status": "ok", "reference": f"TX{r.randint(10000, 99999)}"}
    reply = f"Done. The money has been moved from checking to savings (reference {result['reference']})."
    return _tool_exchange(f"Please move ${amount} from checking to savings.", "transfer", args, result, reply)


def zh_bank_balance_tool(r: random.Random) -> Exchange:
    balance = round(r.uniform(100, 90000), 2)
    args = {"account_id": f"sav-{r.randint(1000, 9999)}"}
    result = {"balance": balance, "currency": "CNY"}
    reply = f"您的储蓄卡余额为{balance:,.2f}元。"
    return _tool_exchange("帮我查一下储蓄卡余额。", "get_balance", args, result, reply)


def zh_clinic_booking_tool(r: random.Random) -> Exchange:
    department = r.choice(["皮肤科", "心内科", "消化内科"])
    day = r.choice(["周一", "周三", "周五"])
    args = {"department": department, "date": "2024-06-17", "time": "morning"}
    result = {"status": "booked", "number": r.randint(3, 40)}
    reply = f"已为您预约{department}{day}上午的号，就诊序号{result['number']}，请提前15分钟到院取号。"
    return _tool_exchange(f"帮我挂{department}{day}上午的号。", "book_appointment", args, result, reply)


def en_clinic_booking_tool(r: random.Random) -> Exchange:
    department = r.choice(["dermatology", "cardiology", "gastroenterology"])
    args = {"department": department, "date": "2024-06-17", "time": "afternoon"}
    result = {"status": "booked", "number": r.randint(3, 40)}
    reply = f"You're booked into {department} on Monday afternoon; please arrive 15 minutes early."
    return _tool_exchange(
        f"Book me into {department} on Monday afternoon, please.", "book_appointment", args, result, reply
    )


TOPICS: dict[tuple[str, str], list[Callable[[random.Random], Exchange]]] = {
    ("zh", "clinic"): [
        zh_clinic_bp, zh_clinic_fever, zh_clinic_glucose, zh_clinic_cough, zh_clinic_booking, zh_clinic_bmi,
        zh_clinic_code, zh_clinic_booking_tool,
    ],
    ("zh", "bank"): [
        zh_bank_limit, zh_bank_transfer, zh_bank_lost, zh_bank_loan, zh_bank_mixed, zh_bank_code,
        zh_bank_balance_tool,
    ],
    ("en", "clinic"): [
        en_clinic_bp, en_clinic_fever, en_clinic_cholesterol, en_clinic_booking, en_clinic_sleep,
        en_clinic_code,
        en_clinic_booking_tool,
    ],
    ("en", "bank"): [
        en_bank_declined, en_bank_transfer, en_bank_limit, en_bank_deposit, en_bank_statement, en_bank_code,
        en_bank_branches, en_bank_balance_tool, en_bank_transfer_tool,
    ],
}  # fmt: skip
SYSTEM = {
    ("zh", "clinic"): [
        "你是一名耐心、专业的全科医生助手。",
        "你是医院的在线问诊助手，请用中文回答，语气亲切。",
    ],
    ("zh", "bank"): ["你是某银行的智能客服，回答要准确、简洁。"],
    ("en", "clinic"): ["You are a careful medical assistant. Do not diagnose; say when to see a doctor."],
    ("en", "bank"): ["You are Northbank's customer support assistant."],
}
CLOSING = {
    "zh": [
        ("好的，谢谢医生！", "不客气，祝您早日康复！"),
        ("明白了，谢谢。", "不客气，有问题随时联系我们。"),
    ],
    "en": [
        ("Great, thanks!", "You're welcome. Take care!"),
        ("Thanks for your help.", "Happy to help. Have a good day!"),
    ],
}
FOLLOW_UPS = {
    "zh": ["还有，我想再问一下。", "对了，还有个问题。"],
    "en": ["Also, one more thing.", "Sorry, another question."],
}
PLACEHOLDERS = {
    "zh": {
        A: ["我是{{name}}，很高兴为您服务。", "{{bank_name}}客服为您服务。", "尊敬的{客户姓名}，"],
        U: ["我叫[NAME]，", "我是{{user_name}}。"],
        S: ["你是{{name}}，由{{author}}开发。", "今天是{date}。"],
    },
    "en": {
        A: ["Hi {customer_name}, thanks for reaching out. ", "I'm {{name}}, your virtual assistant. ",
            "Dear [NAME], ",
            "Hello <PATIENT_NAME>, ", "Hi ${user}, "],
        U: ["My name is {{user_name}}. ", "This is [CUSTOMER NAME]. "],
        S: ["You are {{name}}, an assistant built by {{author}}. ", "Today is {current_date}. "],
    },
}  # fmt: skip
FILLER = {
    "zh": "平时请保持规律作息，饮食清淡，适量运动，按时复诊，并按医嘱用药，不要自行停药或加量。",
    "en": "Keep a regular routine, eat a balanced diet, stay active, attend your follow-up visits and take"
    " any "
    "medicine exactly as prescribed. ",
}


def compose(r: random.Random, *, lang: str | None = None, tools: bool | None = None) -> Draft:
    """Build a clean, realistic dialogue: optional system prompt, one to three exchanges, maybe a closing."""
    lang = lang or r.choice(["zh", "en"])
    domain = r.choice(["clinic", "bank"])
    pool = TOPICS[(lang, domain)]
    if tools is not None:
        pool = [t for t in pool if t.__name__.endswith("_tool") == tools] or pool
    draft = Draft(lang=lang, domain=domain, turns=[])
    if r.random() < 0.5:
        draft.turns.append(Turn(role=S, content=r.choice(SYSTEM[(lang, domain)])))
    chosen = r.sample(pool, k=min(len(pool), r.choice([1, 1, 2, 2, 3])))
    if tools and not any(t.__name__.endswith("_tool") for t in chosen):
        chosen[0] = r.choice([t for t in TOPICS[(lang, domain)] if t.__name__.endswith("_tool")])
    for topic in chosen:
        _append(draft, topic(r), topic.__name__)
    if r.random() < 0.3:
        user, reply = r.choice(CLOSING[lang])
        draft.users.append(len(draft.turns))
        draft.turns += [_u(user), _a(reply)]
    if any(t.tool_calls for t in draft.turns) or r.random() < 0.1:
        wrap = r.random() < 0.5
        declared = [TOOLS[name] for name in DOMAIN_TOOLS[domain]]
        draft.tools = tuple({"type": "function", "function": t} if wrap else t for t in declared)
    return draft


def _append(draft: Draft, exchange: Exchange, topic: str) -> None:
    start = len(draft.turns)
    draft.users.append(start)
    draft.turns += exchange.turns
    reply = len(draft.turns) - 1
    draft.replies[reply] = exchange.figures
    if exchange.plain:
        draft.plain_replies.append(reply)
    draft.topics.add(topic)


# ---------------------------------------------------------------------------------------------- plants

Plant = Callable[[random.Random, Draft], "set[tuple[str, int | None]] | None"]


def plant_role_order(r: random.Random, d: Draft) -> set | None:
    """Break the role grammar: a late system turn, a missing user turn, two user turns, a stray tool turn."""
    kind = r.choice(["system", "drop_user", "double_user", "stray_tool"])
    later = [i for i in d.users if i > 0 and any(t.role is not S for t in d.turns[:i])]
    if kind == "system" and later:
        i = r.choice(later)
        d.turns.insert(i, Turn(role=S, content=SYSTEM[(d.lang, d.domain)][0]))
        return {("consistency.role_order", i)}
    if kind == "drop_user" and later:
        i = r.choice(later)
        del d.turns[i]
        return {("consistency.role_order", i)}
    i = r.choice(d.users)
    if kind == "double_user":
        d.turns.insert(i + 1, _u(r.choice(FOLLOW_UPS[d.lang])))
        return {("consistency.role_order", i + 1)}
    d.turns.insert(i + 1, Turn(role=T, content='{"status": "ok"}'))
    return {("consistency.role_order", i + 1)}


def plant_empty(r: random.Random, d: Draft) -> set | None:
    i = r.choice(d.users + d.plain_replies)
    d.turns[i] = Turn(role=d.turns[i].role, content=r.choice(["", " ", "\n", " \t "]))
    return {("consistency.empty_turn", i)}


def plant_ends_with_user(r: random.Random, d: Draft) -> set | None:
    unused = [t for t in TOPICS[(d.lang, d.domain)] if t.__name__ not in d.topics]
    if not unused:
        return None
    d.turns.append(r.choice(unused)(r).turns[0])
    return {("consistency.ends_with_user", len(d.turns) - 1)}


def plant_no_user(r: random.Random, d: Draft) -> set | None:
    if not d.plain_replies:
        return None
    reply = d.turns[r.choice(d.plain_replies)]
    head = [t for t in d.turns[:1] if t.role is S]
    d.turns = [*head, reply]
    return {("consistency.no_user", None)}


def plant_repeated(r: random.Random, d: Draft) -> set | None:
    pairs = [
        (a, b)
        for a, b in zip(d.plain_replies, d.plain_replies[1:], strict=False)
        if len(d.turns[a].content) > 20
    ]
    if not pairs:
        return None
    first, second = r.choice(pairs)
    if r.random() < 0.5:
        d.turns[second] = d.turns[first]
        return {("consistency.repeated_turn", second)}
    asked = max(i for i in d.users if i < first)
    again = max(i for i in d.users if i < second)
    d.turns[again] = d.turns[asked]
    return {("consistency.repeated_turn", again)}


def plant_echo(r: random.Random, d: Draft) -> set | None:
    options = [i for i in d.plain_replies if len(d.turns[i - 1].content) >= 12 and d.turns[i - 1].role is U]
    if not options:
        return None
    i = r.choice(options)
    question = d.turns[i - 1].content
    echo = r.choice(
        [
            question,
            question.replace("？", "?").replace("，", ","),
            question.lower() if d.lang == "en" else question,
            ("Sure. " if d.lang == "en" else "您好，") + question,
            question.replace(",", "") + " ",
        ]
    )
    d.turns[i] = _a(echo)
    return {("consistency.echo_reply", i)}


def plant_language(r: random.Random, d: Draft) -> set | None:
    if not d.plain_replies:
        return None
    i = r.choice(d.plain_replies)
    other = "en" if d.lang == "zh" else "zh"
    topics = [t for t in TOPICS[(other, d.domain)] if not t.__name__.endswith(("_tool", "_code"))]
    d.turns[i] = r.choice(topics)(r).turns[-1]
    return {("consistency.language_mismatch", i)}


def plant_truncated(r: random.Random, d: Draft) -> set | None:
    """Cut a reply mid-sentence in its second half (or inside its code block)."""
    options = [i for i in d.plain_replies if _cut_points(d.turns[i].content)]
    if not options:
        return None
    i = r.choice(options)
    text = d.turns[i].content
    cut = r.choice(_cut_points(text))
    d.turns[i] = _a(text[:cut].rstrip())
    return {("consistency.truncated", i)}


_TERMINAL = set("。！？.!?…")
# A full sentence said before the cut: a one-clause reply cut mid-way looks like an unpunctuated one.
_SENTENCE = re.compile(r"[。！？!?]|\.\s|[:：]\n")
_LOOKS_WHOLE = _TERMINAL | set("呢吧啊呀哦啦嘛吗哈嗯哇噢咯喔") | set(")）”’」】》`\"'")


def _cut_points(text: str) -> list[int]:
    """Return mid-sentence cut points past half the reply, in prose or code (no lists, links, sign-offs)."""
    points, offset, in_code = [], 0, False
    first = _SENTENCE.search(text)
    said_from = first.end() if first else len(text)
    lines = text.split("\n")
    for n, line in enumerate(lines):
        fence = line.startswith("```")
        in_code = in_code != fence
        listed = line.lstrip().startswith(("-", "1.", "2.", "3.")) or "http" in line or "[" in line
        sign_off = n > 0 and lines[n - 1].endswith(",")
        for k in range(1, len(line)):
            p = offset + k
            kept = text[:p].rstrip()
            if in_code or fence:
                if in_code and not fence and p > len(text) // 2:
                    points.append(p)
                continue
            if listed or sign_off or p < max(said_from, len(text) // 2) or not kept or not line[:k].strip():
                continue
            # A cut just after a particle or a closing bracket or quote leaves a sentence that looks whole.
            if kept[-1] in _LOOKS_WHOLE or text[p:].strip()[:1] in _TERMINAL:
                continue
            points.append(p)
        offset += len(line) + 1
    return points


def plant_placeholder(r: random.Random, d: Draft) -> set | None:
    role = r.choice([A, A, U, S])
    if (role is S and d.turns[0].role is not S) or (role is A and not d.plain_replies):
        role = U
    i = 0 if role is S else r.choice(d.plain_replies if role is A else d.users)
    turn = d.turns[i]
    d.turns[i] = Turn(role=turn.role, content=r.choice(PLACEHOLDERS[d.lang][role]) + turn.content)
    return {("consistency.placeholder", i)}


def plant_number_drift(r: random.Random, d: Draft) -> set | None:
    options = [
        (i, f) for i, figures in d.replies.items() for f in figures if d.turns[i].content.count(f) == 1
    ]
    if not options:
        return None
    i, figure = r.choice(options)
    numbers = set(re.findall(r"\d+(?:\.\d+)?", "\n".join(t.content for t in d.turns).replace(",", "")))
    for _ in range(20):
        drifted = _drift(r, figure)
        if not numbers & set(re.findall(r"\d+(?:\.\d+)?", drifted.replace(",", ""))):
            d.turns[i] = _a(d.turns[i].content.replace(figure, drifted, 1))
            return {("consistency.number_drift", i)}
    return None


def _drift(r: random.Random, figure: str) -> str:
    """Change one digit of a figure, keeping its shape (no new leading zero)."""
    digits = [k for k, ch in enumerate(figure) if ch.isdigit()]
    k = r.choice(digits)
    first = k == digits[0] or figure[k - 1] in "/$"
    choices = [c for c in "0123456789" if c != figure[k] and not (first and c == "0")]
    return figure[:k] + r.choice(choices) + figure[k + 1 :]


def plant_tool_arguments(r: random.Random, d: Draft) -> set | None:
    calls = [i for i, t in enumerate(d.turns) if t.tool_calls]
    if not calls or not d.tools:
        return None
    i = r.choice(calls)
    call = d.turns[i].tool_calls[0]
    args = json.loads(call.arguments)
    schema = TOOLS[call.name]["parameters"]
    enums = [k for k, v in schema["properties"].items() if "enum" in v]
    kind = r.choice(["json", "name", "missing", "type", "enum" if enums else "type"])
    name, text = call.name, call.arguments
    if kind == "json":
        text = r.choice([text[:-1], text.replace('"', "'"), text + ","])
    elif kind == "name":
        name = call.name + r.choice(["s", "_v2", "_now"])
    elif kind == "missing":
        args.pop(r.choice(schema["required"]))
        text = json.dumps(args, ensure_ascii=False)
    elif kind == "type":
        key = r.choice(sorted(args))
        kind_of = schema["properties"][key]["type"]
        args[key] = 12 if kind_of == "string" else str(args[key])
        text = json.dumps(args, ensure_ascii=False)
    else:
        args[enums[0]] = r.choice(["usd", "RMB", "evening", "tonight"])
        text = json.dumps(args, ensure_ascii=False)
    broken = ToolCall(name=name, arguments=text, id=call.id)
    d.turns[i] = Turn(role=A, tool_calls=(broken,))
    return {("consistency.tool_arguments", i)}


def plant_long_reply(r: random.Random, d: Draft) -> set | None:
    if not d.plain_replies:
        return None
    i = r.choice(d.plain_replies)
    text = d.turns[i].content
    target = r.randint(8_300, 14_000)
    extra = FILLER[d.lang] * (target // len(FILLER[d.lang]) + 1)
    d.turns[i] = _a(text + "\n\n" + extra.strip())
    return {("consistency.long_reply", i)}


PLANTS: dict[str, tuple[Plant, bool | None]] = {
    "consistency.role_order": (plant_role_order, None),
    "consistency.empty_turn": (plant_empty, None),
    "consistency.ends_with_user": (plant_ends_with_user, None),
    "consistency.no_user": (plant_no_user, False),
    "consistency.repeated_turn": (plant_repeated, False),
    "consistency.echo_reply": (plant_echo, None),
    "consistency.language_mismatch": (plant_language, None),
    "consistency.truncated": (plant_truncated, None),
    "consistency.placeholder": (plant_placeholder, None),
    "consistency.number_drift": (plant_number_drift, None),
    "consistency.tool_arguments": (plant_tool_arguments, True),
    "consistency.long_reply": (plant_long_reply, None),
}


def planted_corpus(seed: int = SEED) -> list[tuple[Dialogue, set[tuple[str, int | None]]]]:
    """Return clean dialogues (no expected issue) and, per code, dialogues with that defect planted once."""
    r = random.Random(seed)
    corpus: list[tuple[Dialogue, set[tuple[str, int | None]]]] = []
    for n in range(N_CLEAN):
        corpus.append((compose(r, tools=True if n % 5 == 0 else None).dialogue(), set()))
    for plant, tools in PLANTS.values():
        made = 0
        while made < N_PLANTED:
            draft = compose(r, lang="zh" if made % 2 else "en", tools=tools)
            expected = plant(r, draft)
            if expected is not None:
                corpus.append((draft.dialogue(), expected))
                made += 1
    return corpus


def measure(corpus, checker: Consistency) -> dict[str, tuple[float, float, int]]:
    """Return recall, precision and the number of planted cases per code, matching (dialogue, code, turn)."""
    expected: set[Key] = {(n, code, turn) for n, (_, wanted) in enumerate(corpus) for code, turn in wanted}
    found: set[Key] = {(n, i.code, i.turn) for n, (d, _) in enumerate(corpus) for i in checker.check(d)}
    figures = {}
    for code in checker.checks:
        want = {k for k in expected if k[1] == code}
        got = {k for k in found if k[1] == code}
        hits = len(want & got)
        figures[code] = (hits / len(want) if want else 1.0, hits / len(got) if got else 1.0, len(want))
    return figures


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus()


def test_consistency_corpus_is_deterministic(corpus):
    again = planted_corpus()
    assert [d.id for d, _ in again] == [d.id for d, _ in corpus]


def test_consistency_clean_dialogues_have_no_issues(corpus):
    checker = Consistency()
    noisy = [(d.turns, issues) for d, wanted in corpus if not wanted and (issues := checker.check(d))]
    assert noisy == []


def test_consistency_finds_planted_defects_with_high_recall_and_precision(corpus):
    figures = measure(corpus, Consistency())
    table = "\n".join(
        f"{code}: recall {r:.3f} precision {p:.3f} (n={n})" for code, (r, p, n) in figures.items()
    )
    assert all(n == N_PLANTED for _, _, n in figures.values()), table
    assert all(r >= FLOOR and p >= FLOOR for r, p, _ in figures.values()), table


def test_consistency_corpus_covers_both_languages(corpus):
    counts = Counter()
    for d, _ in corpus:
        text = "".join(t.content for t in d.turns)
        counts["zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"] += 1
    assert counts["zh"] > 500 and counts["en"] > 500
