"""The evidence sentences of every detector, in Simplified Chinese and English.

Keyed by template id (``area.what``); each entry has one ``str.format`` template per language
over the values its detector stores (see :mod:`algorithms.evidence` for the format specs). A
new sentence is a new id: a stored id must keep its values, or old rows render as raw data.
"""

from __future__ import annotations

TEMPLATES: dict[str, dict[str, str]] = {
    "text": {"zh": "{text}", "en": "{text}"},
    # -- collusive rings (algorithms/scoring.py) ------------------------------------------------
    "collusion.met": {
        "zh": "{n} 名成员中平均 {mean_present:.0f} 人在 {meeting_days} 个不同日期同日到 {institution} 就诊"
              "（{first_day} 至 {last_day}）",
        "en": "On average {mean_present:.0f} of {n} members visited {institution} on the same day, "
              "on {meeting_days} distinct days ({first_day} to {last_day})",
    },
    "collusion.other_institutions": {
        "zh": "该团伙还在另外 {count} 家机构集中就诊",
        "en": "The group also met at {count} other institution(s)",
    },
    "collusion.bursts": {
        "zh": "{meetings} 次集中就诊中有 {bursts} 次远超该机构平常的日就诊量（平常每天约 {usual:.0f} 人）",
        "en": "{bursts} of {meetings} group visits were far above the institution's usual daily traffic "
              "(about {usual:.0f} persons a day)",
    },
    "collusion.reimbursed": {
        "zh": "成员在集中就诊日共获医保报销 {amount:yuan}",
        "en": "Members were reimbursed {amount:yuan} by medical insurance on the meeting days",
    },
    "collusion.costly": {
        "zh": "{share:pct} 的集中就诊费用远高于该机构的通常水平"
              "（平均每次 {per_visit:yuan}，通常 {usual_visit:yuan}）",
        "en": "{share:pct} of the group visits were billed far above the institution's usual "
              "({per_visit:yuan} a visit on average, usually {usual_visit:yuan})",
    },
    "collusion.residents": {
        "zh": "{n} 名成员登记在同一地址（{address}），系集中居住的住户（如养老机构住户）",
        "en": "{n} members are registered at one address ({address}): residents living together "
              "(e.g. a care home)",
    },
    "collusion.shift": {
        "zh": "{n} 名成员本人在该机构长期按固定星期就诊（不少于 {min_days} 天，以慢病诊断为主），"
              "系透析/康复等固定治疗班次",
        "en": "{n} members themselves visit this institution on fixed weekdays over a long period "
              "(at least {min_days} days, mostly chronic diagnoses): a dialysis/rehabilitation shift",
    },
    "collusion.households": {
        "zh": "{n} 名成员分属 {households} 个同住家庭",
        "en": "{n} members belong to {households} household(s) living together",
    },
    "collusion.colleagues": {
        "zh": "{n} 名成员为同一单位职工，仅在 {days} 天集中就诊（单位体检）",
        "en": "{n} members are staff of one employer and met on only {days} day(s) (a check-up day)",
    },
    "collusion.explained": {
        "zh": "成员间的关系可以解释同日就诊：{n} 名成员仅构成 {units} 个独立单元",
        "en": "The members' own ties explain the same-day visits: {n} members form only {units} "
              "independent unit(s)",
    },
    "collusion.unexplained": {
        "zh": "{unexplained} 名成员与其他成员无居住、治疗班次、家庭或单位关系；"
              "有关系的 {explained} 名成员不足以解释该团伙",
        "en": "{unexplained} members share no residence, treatment shift, household or employer with the "
              "others; the {explained} members with such ties do not explain the ring",
    },
    "collusion.cover_residents": {
        "zh": "疑为被拉入作掩护的真实住户：{persons:list}",
        "en": "Genuine residents presumably recruited as cover: {persons:list}",
    },
    "collusion.cover_residents_more": {
        "zh": "疑为被拉入作掩护的真实住户：{persons:list} 等 {total} 人",
        "en": "Genuine residents presumably recruited as cover: {persons:list} and others, {total} in all",
    },
    # -- shared identifiers (algorithms/shared_identifiers.py, scoring.py) ----------------------
    "shared.identifier": {
        "zh": "{count} 人共用{kind:ident} {value}",
        "en": "{count} persons share {kind:ident} {value}",
    },
    "shared.institution_phone": {
        "zh": "{value} 同时是 {n} 名登记在同一地址（{home}…）的住户的机构电话；"
              "上述人员不住在该地址，疑为中介借用机构座机",
        "en": "{value} is also the institution phone of {n} residents registered at one address ({home}…); "
              "the persons above do not live there: presumably a broker using the institution's landline",
    },
    "shared.linked": {
        "zh": "住在 {addresses} 个不同地址的 {n} 人通过 {identifiers} 个共用标识关联",
        "en": "{n} persons living at {addresses} different address(es) are linked by {identifiers} shared "
              "identifier(s)",
    },
    "shared.chained": {
        "zh": "标识相互串联：共用一个标识的人又共用另一个标识（中介网络）",
        "en": "The identifiers are chained: persons sharing one identifier share another too "
              "(a broker network)",
    },
    "shared.reimbursed": {
        "zh": "上述人员共获医保报销 {amount:yuan}",
        "en": "These persons were reimbursed {amount:yuan} by medical insurance",
    },
    # -- pharmacy card cash-out (algorithms/pharmacy_cash_out.py) -------------------------------
    "pharmacy.days": {
        "zh": "{name} 在 {days} 天（{first_day} 至 {last_day}）出现 {households} 户互不相关的参保人"
              "同日集中刷卡购药，共 {purchases} 笔",
        "en": "At {name}, on {days} day(s) ({first_day} to {last_day}), {households} unrelated households "
              "bought with their insurance cards on the same day: {purchases} purchases",
    },
    "pharmacy.amounts": {
        "zh": "每笔金额远高于该药店的通常购药金额（{usual:yuan}），{round_share:pct} 为整百金额；"
              "最常见金额：{common:amounts}",
        "en": "Each purchase far above the pharmacy's usual amount ({usual:yuan}); {round_share:pct} are "
              "round hundreds; most common amounts: {common:amounts}",
    },
    "pharmacy.total": {
        "zh": "合计结算 {billed:yuan}，医保报销 {reimbursed:yuan}：疑为刷卡套现",
        "en": "Billed {billed:yuan} in all, {reimbursed:yuan} reimbursed by medical insurance: suspected "
              "card cash-out",
    },
    "pharmacy.persons": {"zh": "涉及人员：{persons:list}", "en": "Persons involved: {persons:list}"},
    "pharmacy.persons_more": {
        "zh": "涉及人员：{persons:list} 等 {total} 人",
        "en": "Persons involved: {persons:list} and others, {total} in all",
    },
    # -- double claims (algorithms/double_claims.py) --------------------------------------------
    "double.work_injury_case": {
        "zh": "同一工伤（外伤案件 {case}）既由工伤保险支付（{work:yuan}），又由医保支付（{medical:yuan}）",
        "en": "One work injury (injury case {case}) was paid by work-injury insurance ({work:yuan}) and by "
              "medical insurance ({medical:yuan})",
    },
    "double.work_injury_window": {
        "zh": "同一工伤（工伤结算前后 {window} 天内的外伤诊断）既由工伤保险支付（{work:yuan}），"
              "又由医保支付（{medical:yuan}）",
        "en": "One work injury (an injury diagnosis within {window} days of the work-injury claim) was paid "
              "by work-injury insurance ({work:yuan}) and by medical insurance ({medical:yuan})",
    },
    "double.work_injury_only": {
        "zh": "医保支付的 {medical:yuan} 应仅由工伤保险支付",
        "en": "The {medical:yuan} paid by medical insurance should have been paid by work-injury "
              "insurance only",
    },
    "double.over_expense": {
        "zh": "{day} 在 {institution} 的费用 {expense:yuan} 由医保报销 {medical:yuan}、"
              "商业保险报销 {commercial:yuan}：超出费用本身 {excess:yuan}",
        "en": "On {day} at {institution} an expense of {expense:yuan} was reimbursed {medical:yuan} "
              "by medical and {commercial:yuan} by commercial insurance: {excess:yuan} more than the "
              "expense itself",
    },
    "double.third_party_case": {
        "zh": "外伤案件 {case}（{cause:cause}）有应负责任的第三方，医保却支付了 {medical:yuan}",
        "en": "Injury case {case} ({cause:cause}) has a liable third party, yet medical insurance paid "
              "{medical:yuan}",
    },
    "double.third_party_window": {
        "zh": "外伤案件 {case}（{cause:cause}）有应负责任的第三方，医保却支付了 {medical:yuan}"
              "（结算按人员和日期匹配）",
        "en": "Injury case {case} ({cause:cause}) has a liable third party, yet medical insurance paid "
              "{medical:yuan} (claims matched by person and date)",
    },
    # -- impossible care (algorithms/impossible_care.py, stay_patterns.py, far_apart.py) --------
    "care.overlapping": {
        "zh": "{first_day} 至 {last_day} 期间同时在 {count} 家机构住院"
              "（{institutions:list}）：重叠 {days} 天",
        "en": "From {first_day} to {last_day} in hospital at {count} institutions at once "
              "({institutions:list}): {days} day(s) overlap",
    },
    "care.after_death": {
        "zh": "登记死亡日期 {death} 之后仍有 {claims} 笔结算（{first_day} 至 {last_day}），"
              "医保报销 {paid:yuan}",
        "en": "{claims} claim(s) after the registered date of death {death} ({first_day} to {last_day}), "
              "{paid:yuan} reimbursed by medical insurance",
    },
    "care.elsewhere": {
        "zh": "住院期间（{admitted} 入院至 {discharged} 出院，{stay_institutions:list}）在其他机构"
              "（{institutions:list}）有就诊或购药记录 {days} 天"
              "（{first_day} 至 {last_day}，不含入院和出院当日）",
        "en": "While admitted ({admitted} to {discharged}, {stay_institutions:list}) visits or purchases at "
              "other institutions ({institutions:list}) on {days} day(s) ({first_day} to {last_day}, "
              "admission and discharge days excluded)",
    },
    "care.elsewhere_pharmacy": {
        "zh": "其中购药结算 {pharmacy} 笔；疑为挂床住院：住院床位计费期间本人不在院",
        "en": "{pharmacy} of them pharmacy purchases; suspected bed-blocking: the patient was away while the "
              "bed was billed",
    },
    "care.elsewhere_paid": {
        "zh": "涉及住院报销 {paid:yuan}",
        "en": "Inpatient reimbursement involved: {paid:yuan}",
    },
    "care.split": {
        "zh": "在 {institution} 以同一主诊断 {diagnosis} 连续住院 {stays} 次（{first_day} 至 {last_day}），"
              "每次出院后 {gap} 天内再次入院（不超过 {limit} 天）：疑为分解住院",
        "en": "{stays} consecutive stays at {institution} with the same main diagnosis {diagnosis} "
              "({first_day} to {last_day}), each readmission within {gap} day(s) of discharge (limit "
              "{limit}): suspected split admission",
    },
    "care.split_paid": {
        "zh": "再次入院的医保报销合计 {amount:yuan}",
        "en": "Readmissions reimbursed by medical insurance: {amount:yuan} in all",
    },
    "care.far_apart": {
        "zh": "{days} 天（{first_day} 至 {last_day}）同一天在相距约 {km:,.0f} 公里的机构"
              "（{places:list}）就诊或购药，"
              "超出当天可往返的距离（{limit_km:g} 公里）：疑为冒名就医（他人持卡）",
        "en": "On {days} day(s) ({first_day} to {last_day}) visits or purchases on one day at institutions "
              "about {km:,.0f} km apart ({places:list}), beyond a same-day round trip ({limit_km:g} km): "
              "suspected use of the card by someone else",
    },
    "care.far_apart_day": {
        "zh": "{days} 天（{first_day}）同一天在相距约 {km:,.0f} 公里的机构（{places:list}）就诊或购药，"
              "超出当天可往返的距离（{limit_km:g} 公里）：疑为冒名就医（他人持卡）",
        "en": "On {days} day(s) ({first_day}) visits or purchases on one day at institutions about "
              "{km:,.0f} km apart ({places:list}), beyond a same-day round trip ({limit_km:g} km): "
              "suspected use of the card by someone else",
    },
}

LIST_SEPARATORS = {"zh": "、", "en": ", "}

TERMS: dict[str, dict[str, str]] = {
    "zh": {
        "ident.Phone": "电话",
        "ident.BankAccount": "银行账户",
        "ident.Address": "地址",
        "cause.traffic": "交通事故",
        "cause.work": "工伤",
        "cause.assault": "他人伤害",
        "cause.fall": "跌倒",
        "cause.sports": "运动损伤",
        "cause.other": "其他",
        "purchases": "笔",
    },
    "en": {
        "ident.Phone": "the phone",
        "ident.BankAccount": "the bank account",
        "ident.Address": "the address",
        "cause.traffic": "traffic accident",
        "cause.work": "work",
        "cause.assault": "assault",
        "cause.fall": "fall",
        "cause.sports": "sports",
        "cause.other": "other",
        "purchases": "purchases",
    },
}
