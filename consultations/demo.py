"""Demo data built from the seed documents (``flask demo``).

Four consultations taken from the sources, and one draft:

* the Guadalajara regional multi-stakeholder platform (IOM Spain, Fundación CEPAIM,
  ICMC Europe): the 7 challenges and 5 proposals of its roundtable of 4 June 2021;
* Spain's civil-society consultation day of 15 February 2024 and the working day with
  the regional and local administrations of 23 February 2024 (Spain's answer to the
  UNECE 2024 regional review questionnaire);
* Valencia's Local Council on Immigration and Interculturality (open, so demo users can
  contribute);
* a draft call for input owned by the ministry organiser.

Where a source records what was said, the text follows it. Where it does not (who said
what at the two Spanish days, beyond the points the review reports), the items restate
themes of the same source and the consultation description says they are illustrative.
No figure appears here that is not in the seeds.

Everything goes through the service functions, which validate and flush; the caller
commits. ``load_demo`` expects an empty database.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from .accounts.services import register_user
from .consultations.services import add_organiser, change_state, create_consultation
from .contributions.services import submit_contribution
from .extensions import db
from .organisations.services import create_organisation
from .roundtables.services import (
    add_member,
    carry_forward,
    create_roundtable,
    publish_minutes,
    record_attendance,
)

DOMAIN = "demo.mesa.example"

# -- organisations --------------------------------------------------------------
# (key, name, category, governance level). Organisations the seeds name are named;
# where a seed speaks only of "NGOs", "migrant associations" and the like, the demo
# uses a descriptive name rather than attach statements to a real organisation.
ORGANISATIONS: list[tuple[str, str, str, str | None]] = [
    # National administrations
    ("maec", "Ministry of Foreign Affairs, European Union and Cooperation", "public_administration", "national"),
    ("missm", "Ministry of Inclusion, Social Security and Migration", "public_administration", "national"),
    # Guadalajara regional platform
    ("iom", "IOM Spain", "international_organisation", None),
    ("cepaim", "Fundación CEPAIM", "ngo", None),
    ("icmc", "ICMC Europe", "ngo", None),
    ("dip_gu", "Diputación Provincial de Guadalajara", "public_administration", "provincial"),
    ("town_gu", "Rural town council, Province of Guadalajara", "public_administration", "municipal"),
    ("assoc_gu", "Migrant association, Province of Guadalajara", "migrant_association", None),
    # Civil-society day, 15 February 2024
    ("ngo_reception", "Refugee reception NGO network", "ngo", None),
    ("ngo_rights", "Human rights NGO platform", "ngo", None),
    ("mig_fed", "Federation of migrant associations", "migrant_association", None),
    ("mig_women", "Migrant women's association", "migrant_association", None),
    ("union", "Trade union confederation, migration department", "trade_union", None),
    ("employers", "Employers' confederation, labour migration committee", "employers_organisation", None),
    ("academia", "University institute for migration studies", "academia", None),
    # Inter-administration day, 23 February 2024
    ("basque", "Basque Government", "public_administration", "regional"),
    ("navarre", "Government of Navarre", "public_administration", "regional"),
    ("catalonia", "Government of Catalonia", "public_administration", "regional"),
    ("canarias", "Government of the Canary Islands", "public_administration", "regional"),
    (
        "gva",
        "Generalitat Valenciana, Directorate-General for Equality in Diversity",
        "public_administration",
        "regional",
    ),
    ("dip_va", "Diputación Provincial de Valladolid", "public_administration", "provincial"),
    (
        "valencia_city",
        "City of Valencia, Department of Development Cooperation and Migration",
        "public_administration",
        "municipal",
    ),
    # Valencia Local Council on Immigration and Interculturality
    ("cear_pv", "CEAR-PV", "ngo", None),
    ("accem", "Accem", "ngo", None),
    ("creu_roja", "Creu Roja València", "ngo", None),
    ("valencia_acull", "València Acull", "ngo", None),
    ("mci", "Moviment contra la Intolerància (MCI)", "ngo", None),
    ("intersindical", "Intersindical Valenciana", "trade_union", None),
    (
        "colectiva",
        "Colectiva de Mujeres Refugiadas, Exiliadas y Migradas en España",
        "migrant_association",
        None,
    ),
]

# -- people -----------------------------------------------------------------------
# Accounts a person can log in with. ``speaks_for``: this person also authors the
# demo contributions of that organisation.
_LOGINS: list[dict] = [
    dict(role="admin", email=f"admin@{DOMAIN}", password="demo-admin-2024",
         name="Mesa administrator (demo)", org=None, speaks_for=False),
    dict(role="organiser", email=f"ministry.organiser@{DOMAIN}", password="demo-organiser-2024",
         name="Ministry organiser (demo)", org="maec", speaks_for=True),
    dict(role="organiser", email=f"platform.organiser@{DOMAIN}", password="demo-platform-2024",
         name="IOM Spain platform organiser (demo)", org="iom", speaks_for=True),
    dict(role="organiser", email=f"migration.organiser@{DOMAIN}", password="demo-migration-2024",
         name="Migration ministry organiser (demo)", org="missm", speaks_for=True),
    dict(role="organiser", email=f"council.organiser@{DOMAIN}", password="demo-council-2024",
         name="Valencia migration department organiser (demo)", org="valencia_city", speaks_for=True),
    dict(role="participant", email=f"migrants@{DOMAIN}", password="demo-participant-2024",
         name="Migrant association member (demo)", org="colectiva", speaks_for=True),
    dict(role="participant", email=f"ngo@{DOMAIN}", password="demo-participant-2024",
         name="NGO member (demo)", org="cear_pv", speaks_for=True),
    dict(role="participant", email=f"region@{DOMAIN}", password="demo-participant-2024",
         name="Regional administration officer (demo)", org="gva", speaks_for=True),
    dict(role="reviewer", email=f"reviewer@{DOMAIN}", password="demo-reviewer-2024",
         name="Government reviewer (demo)", org="missm", speaks_for=False),
]

# Every organiser of a demo consultation is one of these logins (tests/test_demo.py), and
# README.md lists them all.
DEMO_ACCOUNTS: list[tuple[str, str, str]] = [(a["role"], a["email"], a["password"]) for a in _LOGINS]

_PATHS = {
    "draft": [],
    "open": ["open"],
    "closed": ["open", "closed"],
    "published": ["open", "closed", "published"],
}

_ROUNDTABLE = "Raised at the second roundtable of the platform (4 June 2021, online)."
_PROPOSED = (
    "Proposed at the second roundtable of the platform (4 June 2021, online) "
    "as a pilot action to be launched in the autumn."
)

# -- consultations ----------------------------------------------------------------
# Each item: ref (for answers), kind, org (whose spokesperson submits it), title, body,
# objectives, principles, answers (refs of challenges), named (organisation agreed to be
# named), at (when it was said; defaults to the meeting time plus a few minutes).
# ``notes`` (per kind) is appended to the body of every item of that kind.
CONSULTATIONS: list[dict] = [
    dict(
        key="guadalajara",
        organiser="iom",
        title="Regional multi-stakeholder platform for migrant and refugee integration, Province of Guadalajara",
        kind="regional_platform",
        opens_on=date(2021, 6, 4),
        closes_on=date(2021, 6, 4),
        territory="Province of Guadalajara, Castilla-La Mancha, Spain",
        focus=[3, 6, 15, 16, 17, 18],
        eligibility="invited",
        invited=["iom", "cepaim", "icmc", "dip_gu", "town_gu", "assoc_gu"],
        state="closed",
        created=datetime(2021, 5, 20, 9, 0),
        meeting=datetime(2021, 6, 4, 10, 0),
        state_changed=datetime(2021, 6, 4, 12, 30),
        notes={"challenge": _ROUNDTABLE, "proposal": _PROPOSED},
        heard_at="second",
        # Meetings of the platform. The seed gives the second roundtable's date, length,
        # format and attendance (16); the first one's date and the breakdown of the 16 by
        # category are illustrative, and so is which challenges were first raised at the
        # first roundtable (the seed says the second "continued the conversation").
        roundtables=[
            dict(key="first", title="First roundtable of the platform", day=date(2021, 3, 25),
                 start=time(10, 0), end=time(12, 0), mode="online",
                 agenda="Launch of the platform: the integration of newcomers in the province's rural areas, "
                        "the experiences of local actors.\n\n*The date of this meeting is illustrative.*",
                 focus=[15, 16]),
            dict(key="second", title="Second roundtable: challenges and pilot actions", day=date(2021, 6, 4),
                 start=time(10, 0), end=time(12, 0), mode="online", carry_from="first",
                 agenda="1. EU priorities for integration and rural territories 2021-2027\n"
                        "2. Needs and challenges of newcomers in Guadalajara, compared with the European "
                        "Commission's public consultation\n"
                        "3. Proposals for pilot actions to launch in the autumn",
                 focus=[3, 6, 15, 16, 17, 18],
                 walk_ins=[("international_organisation", None, 2), ("ngo", None, 5),
                           ("migrant_association", None, 3), ("public_administration", "municipal", 3),
                           ("public_administration", "provincial", 2), ("academia", None, 1)],
                 minutes="16 stakeholders joined the two-hour online meeting to continue the conversation "
                         "started by the first roundtable. Participants compared the needs and challenges of "
                         "newcomers in Guadalajara with EU priorities for 2021-2027 and with the European "
                         "Commission's public consultation, listed seven challenges, and brainstormed five "
                         "proposals for pilot actions to be launched in the autumn. Common challenges of "
                         "people living in rural areas and of newcomers were also discussed. The stakeholders "
                         "will gather on two more occasions over 2021/2022.\n\n"
                         "*Attendance by category is illustrative: the source gives only the total of 16.*"),
        ],
        description="""\
A regional multi-stakeholder cooperation platform for migrant and refugee integration in the
**Province of Guadalajara**, set up by **IOM Spain** in cooperation with **Fundación CEPAIM** and
**ICMC Europe** (lead of the SHARE Network), in the framework of the *Share SIRA* project,
co-funded by the EU Asylum, Migration and Integration Fund. Platforms of the same kind run in
9 other rural regions of Europe.

- **First roundtable**: started the conversation among local actors on the integration of
  newcomers in the province's rural areas.
- **Second roundtable, 4 June 2021** (online, two hours, 16 stakeholders): continued that
  conversation, compared the needs and challenges of newcomers in Guadalajara with EU
  priorities for integration and rural territories for 2021-2027 and with the European
  Commission's public consultation, listed the challenges below, and brainstormed proposals
  for pilot actions to be launched in the autumn. Common challenges of people living in rural
  areas and of newcomers were also discussed.
- **Next**: the stakeholders will gather on **two more occasions** over 2021/2022; the
  platform reopens for each of them and carries its open challenges forward.
""",
        items=[
            dict(ref="basic", kind="challenge", raised_at="first", org="cepaim", named=True,
                 title="Difficulties in covering basic needs",
                 body="Newcomers in the province's villages find it difficult to cover their basic needs.",
                 objectives=[15, 7], principles=["people-centred"]),
            dict(ref="education", kind="challenge", org="dip_gu", named=True,
                 title=(
                     "Lack of educational opportunities for families with children, "
                     "and of facilities for single-parent families"
                 ),
                 body=(
                     "Families with children lack educational opportunities, and single-parent "
                     "families need greater facilities."
                 ),
                 objectives=[15, 16], principles=["child-sensitive", "gender-responsive"]),
            dict(ref="connection", kind="challenge", org="icmc", named=True,
                 title="Poor connection with the cultural and social environment",
                 body="Newcomers have little connection with the cultural and social life around them.",
                 objectives=[16]),
            dict(ref="language", kind="challenge", raised_at="first", org="assoc_gu", named=False,
                 title="Communication barriers due to language limitations",
                 body=(
                     "Limited knowledge of the language is a barrier to communication, with services "
                     "and with neighbours."
                 ),
                 objectives=[3, 15, 16]),
            dict(ref="mobility", kind="challenge", raised_at="first", org="town_gu", named=False,
                 title="Mobility difficulties and limited access to other services such as health care and shopping",
                 body=(
                     "Getting around between villages is hard, which limits access to **health care**, "
                     "shops and other services."
                 ),
                 objectives=[15, 16]),
            dict(ref="networks", kind="challenge", org="cepaim", named=True,
                 title="Lack of social support networks",
                 body="Newcomers often have no social support network to rely on.",
                 objectives=[16, 7]),
            dict(ref="stereotypes", kind="challenge", org="assoc_gu", named=False,
                 title="Stereotypes and prejudices of the local population towards migrants",
                 body="Part of the local population holds stereotypes and prejudices about migrants.",
                 objectives=[17], principles=["human-rights"]),
            dict(ref="p-orientation", kind="proposal", org="cepaim", named=True,
                 title="Socio-labour orientation programmes, emotional accompaniment and attention",
                 body="Offer **socio-labour orientation** with **emotional accompaniment** and attention.",
                 objectives=[6, 18, 16], principles=["people-centred"], answers=["basic", "networks"]),
            dict(ref="p-villages", kind="proposal", org="town_gu", named=False,
                 title="Involve migrants in village improvement projects with local people",
                 body=(
                     "Activities in which migrants collaborate with local people to improve their village, "
                     "for example:\n\n- volunteering in environmental projects;\n- community gardens."
                 ),
                 objectives=[16, 17], principles=["whole-of-society"], answers=["connection", "stereotypes"]),
            dict(ref="p-skills", kind="proposal", org="iom", named=True,
                 title="Workshops to connect the skills of migrants and those of local people",
                 body="Workshops where migrants and local people share and combine their skills.",
                 objectives=[18, 16], answers=["connection", "stereotypes"]),
            dict(ref="p-cars", kind="proposal", org="dip_gu", named=True,
                 title='Enhanced mobility between villages via "rural cars"',
                 body='Better mobility between villages through **"rural cars"**.',
                 objectives=[15, 16], answers=["mobility"]),
            dict(ref="p-intergenerational", kind="proposal", org="icmc", named=True,
                 title="Creation of intergenerational spaces",
                 body="Create spaces where people of different generations, newcomers and locals, meet.",
                 objectives=[16, 17], principles=["whole-of-society"], answers=["networks", "connection"]),
        ],
    ),
    dict(
        key="civil_society_day",
        organiser="maec",
        title="GCM regional review 2024: consultation day with civil society",
        kind="civil_society_day",
        opens_on=date(2024, 2, 15),
        closes_on=date(2024, 2, 15),
        territory="Spain",
        focus=[1, 3, 5, 6, 7, 8, 12, 15, 16, 17, 23],
        eligibility="registered",
        invited=[],
        state="published",
        created=datetime(2024, 1, 15, 9, 0),
        meeting=datetime(2024, 2, 15, 9, 30),
        state_changed=datetime(2024, 3, 1, 10, 0),
        description="""\
Consultation day with civil society held on **15 February 2024**, before Spain answered the
UNECE questionnaire for the 2024 regional review of the Global Compact for Migration.
Organised by the **Ministry of Foreign Affairs, European Union and Cooperation**, with the
logistical and technical support of the **IOM Office in Spain**.

Spain consults the administrations (whole-of-government approach) and civil society
(whole-of-society approach) on a regular basis before the four-year and mid-term reviews of
the GCM. As Spain's review records of this day:

- the social actors identified good practices of the Spanish administration, such as the
  **search and rescue work of Salvamento Marítimo**, unanimously praised by the institutions
  and associations present;
- some civil society organisations said that the Compact itself is a tremendous challenge,
  as is integrating the different international instruments that refer to migration, and
  several NGOs said the European Pact on Migration and Asylum should have mentioned the GCM.

*Demo data: the other contributions restate themes of Spain's 2024 review; they illustrate
the platform and are not minutes of the day.*
""",
        items=[
            dict(ref="sar", kind="good_practice", org="ngo_rights", named=True,
                 title="Search and rescue at sea by Salvamento Marítimo",
                 body=(
                     "The **search and rescue** (SAR) work of *Salvamento Marítimo* was praised "
                     "unanimously by the institutions and associations present.\n\n"
                     "Spain's review records that in 2023 Salvamento Marítimo coordinated the search "
                     "of 1,239 precarious vessels and rescued 26,521 people in the area of immigration."
                 ),
                 objectives=[8], principles=["human-rights"]),
            dict(ref="compact", kind="challenge", org="ngo_reception", named=True,
                 title="The Compact itself is a tremendous challenge",
                 body=(
                     "The GCM is very broad and sets enormously ambitious goals. Integrating the "
                     "different international instruments that refer to migration is a challenge too."
                 ),
                 objectives=[23], principles=["international-cooperation"]),
            dict(ref="eu-pact", kind="proposal", org="ngo_rights", named=True,
                 title="Mention the GCM in the European Pact on Migration and Asylum",
                 body=(
                     "The European Pact on Migration and Asylum should have included a mention of the "
                     "GCM, recognising its value as the **first universal instrument** dealing with migration."
                 ),
                 objectives=[23], principles=["international-cooperation"], answers=["compact"]),
            dict(ref="procedures", kind="challenge", org="mig_fed", named=False,
                 title="Unclear, lengthy procedures",
                 body=(
                     "When the procedure for a visa or for access to a labour migration pathway is "
                     "unclear, processes become complicated and lengthy, and migrants bear the cost."
                 ),
                 objectives=[12, 5, 3], principles=["rule-of-law"]),
            dict(ref="information", kind="proposal", org="mig_fed", named=False,
                 title="One electronic procedure and plain information on regular pathways",
                 body=(
                     "Complete the common application that integrates every phase of immigration "
                     "procedures across the administrations, and keep the information on regular "
                     "pathways, forms and immigration offices **plain and up to date**."
                 ),
                 objectives=[3, 12], answers=["procedures"]),
            dict(ref="not-without-migrants", kind="proposal", org="mig_fed", named=True,
                 title="No migration policies for migrants without migrants",
                 body=(
                     "Civil society's call at the 2022 International Migration Review Forum: migration "
                     "policies should no longer be made *for migrants without migrants*. Migrant "
                     "associations should take part in prior public consultations and in the Forum "
                     "for the Social Integration of Immigrants (FISI) from the start."
                 ),
                 objectives=[16], principles=["people-centred", "whole-of-society"]),
            dict(ref="arraigo", kind="good_practice", org="ngo_reception", named=True,
                 title='"Arraigo" for training',
                 body=(
                     "The 2022 reform of the Regulation on Immigration created **arraigo for training**: "
                     "people who have been in an irregular situation in Spain for two years and train "
                     "for an occupation that is hard to fill can obtain a residence and work "
                     "authorisation. Some points were made more flexible in 2023."
                 ),
                 objectives=[5, 7, 18], principles=["human-rights"]),
            dict(ref="reception", kind="challenge", org="ngo_reception", named=False,
                 title="Pressure on humanitarian reception since summer 2023",
                 body=(
                     "Arrivals on the Spanish coasts, in particular in the **Canary Islands**, have "
                     "increased steadily since early summer 2023 and exceeded the forecasts. Reception "
                     "capacity and waiting lists are under strain."
                 ),
                 objectives=[7, 15]),
            dict(ref="concerted", kind="proposal", org="ngo_rights", named=False,
                 title="Multi-year concerted action for reception services",
                 body=(
                     "Use the **concerted action** model for reception (authorisations of up to four "
                     "years for qualified entities) rather than yearly subsidies, so that entities can "
                     "plan and the system gains stability and predictability."
                 ),
                 objectives=[7, 15], answers=["reception"]),
            dict(ref="victims", kind="good_practice", org="mig_women", named=True,
                 title="Residence and work permits for victims of sexual violence, whatever their status",
                 body=(
                     "Since the 2023 amendment of the Organic Law on Immigration, the temporary "
                     "residence and work permit for foreign women victims of gender violence also covers "
                     "**victims of sexual violence**, regardless of their administrative status."
                 ),
                 objectives=[7], principles=["gender-responsive", "human-rights"]),
            dict(ref="hate", kind="challenge", org="mig_women", named=False,
                 title="Hate speech and discrimination against migrants",
                 body=(
                     "Migrants still face racism, xenophobia and hate speech, online and offline. "
                     "Monitoring (such as the observatory's bulletins on hate speech in social media) "
                     "must lead to protection and redress for victims."
                 ),
                 objectives=[17], principles=["human-rights"]),
            dict(ref="young", kind="good_practice", org="ngo_rights", named=True,
                 title="Documentation and work for young people formerly in care",
                 body=(
                     "The 2021 reform of the Regulation on Immigration reduced the obstacles to "
                     "documentation for unaccompanied minors and young people formerly in care, and "
                     "lets them work from the legal working age. Spain's review reports more than "
                     "17,000 beneficiaries, and an employment rate of 16-to-23 year-olds that rose from "
                     "28% to 51% in the first six months."
                 ),
                 objectives=[4, 7, 16], principles=["child-sensitive"]),
            dict(ref="inspection", kind="proposal", org="union", named=True,
                 title="Labour inspections that protect exploited workers",
                 body=(
                     "Keep joint inspections of the security forces and the **Labour and Social "
                     "Security Inspectorate** focused on detecting exploitation and protecting its "
                     "victims, and make sure workers can report abuse."
                 ),
                 objectives=[6, 10], principles=["human-rights"]),
            dict(ref="circular", kind="good_practice", org="employers", named=True,
                 title="Circular migration programmes with Morocco (GECCO, WAFIRA)",
                 body=(
                     "- **GECCO** brings Moroccan workers, many of them women, to the agricultural "
                     "sector every year, with specific training; the return rate at the end of the "
                     "programme is practically 100%.\n"
                     "- **WAFIRA** trains seasonal women so that on return they can start "
                     "income-generating activities.\n\n"
                     "The model is being replicated with Senegal, Honduras and Guatemala."
                 ),
                 objectives=[5, 6, 19], principles=["international-cooperation", "gender-responsive"]),
            dict(ref="data", kind="proposal", org="academia", named=True,
                 title="Open migration databases to researchers",
                 body=(
                     "Go ahead with opening the Valletta Joint Action Plan database to academia for "
                     "technical analysis, and keep publishing **disaggregated statistics** on the "
                     "migrant population by legal status."
                 ),
                 objectives=[1]),
        ],
    ),
    dict(
        key="inter_administration_day",
        organiser="missm",
        co_organisers=[f"ministry.organiser@{DOMAIN}"],
        title="GCM regional review 2024: working day with the regional and local administrations",
        kind="inter_administration_day",
        opens_on=date(2024, 2, 23),
        closes_on=date(2024, 2, 23),
        territory="Spain",
        focus=[5, 7, 12, 15, 16, 17],
        eligibility="invited",
        invited=["basque", "navarre", "catalonia", "canarias", "gva", "dip_va", "dip_gu", "valencia_city"],
        state="published",
        created=datetime(2024, 1, 22, 9, 0),
        meeting=datetime(2024, 2, 23, 9, 30),
        state_changed=datetime(2024, 3, 8, 10, 0),
        description="""\
Working day with the different levels of the administration, led by the **Ministry of
Inclusion, Social Security and Migration** on **23 February 2024**, before Spain answered
the UNECE questionnaire for the 2024 regional review of the GCM (whole-of-government
approach). Regional and local administrations were invited.

Good practices of the Spanish regions shared at the event, as recorded in Spain's review:

- **Basque Country**: a Basque Social Pact on Migration, and a Basque Forum on Migration and
  Asylum;
- **Navarra**: a Plan to Combat Racism and Xenophobia;
- **Catalonia**: a law on racism drafted with the participation of migrants, and a local-level
  pact not to use migration as an electoral tool.

*Demo data: the other contributions restate gaps and practices named in Spain's review and in
the Valencia city report; they illustrate the platform and are not minutes of the day.*
""",
        items=[
            dict(ref="basque-pact", kind="good_practice", org="basque", named=True,
                 title="Basque Social Pact on Migration",
                 body="A social pact on migration with both a **preventive and a reactive** approach.",
                 objectives=[16, 17], principles=["whole-of-society"]),
            dict(ref="basque-forum", kind="good_practice", org="basque", named=True,
                 title="Basque Forum on Migration and Asylum",
                 body=(
                     "Brings together administrations and civil society organisations and contributes "
                     "to the design of regional policies on migration."
                 ),
                 objectives=[16], principles=["whole-of-government", "whole-of-society"]),
            dict(ref="navarre-plan", kind="good_practice", org="navarre", named=True,
                 title="Plan to Combat Racism and Xenophobia (Navarra)",
                 body="Navarra is developing a regional plan to combat racism and xenophobia.",
                 objectives=[17], principles=["human-rights"]),
            dict(ref="catalan-law", kind="good_practice", org="catalonia", named=True,
                 title="A law on racism drafted with the participation of migrants",
                 body="Catalonia is drafting a law on racism **with the participation of migrants**.",
                 objectives=[17, 16], principles=["people-centred", "whole-of-society"]),
            dict(ref="electoral-pact", kind="good_practice", org="catalonia", named=True,
                 title="A local pact not to use migration as an electoral tool",
                 body=(
                     "In Catalonia, a pact is being drawn up at the local level to reach a commitment "
                     "**not to use migration as an electoral tool**."
                 ),
                 objectives=[17]),
            dict(ref="arrivals", kind="challenge", org="canarias", named=False,
                 title="Arrivals beyond forecasts strain reception in the Canary Islands",
                 body=(
                     "Since early summer 2023 arrivals on the coasts, in particular in the Canary "
                     "Islands, have far surpassed the records of previous years and exceeded the most "
                     "pessimistic forecasts, putting pressure on humanitarian reception capacity."
                 ),
                 objectives=[7, 15], principles=["whole-of-government"]),
            dict(ref="migradmi", kind="good_practice", org="canarias", named=True,
                 title="MIGRADMI: a state meeting of administrations on migration planning",
                 body=(
                     "First state meeting on planning in migration management, cultural diversity and "
                     "social coexistence from the public administrations, 28-29 September 2023 at the "
                     "University of La Laguna (Tenerife), promoted by the *Canarias Convive* programme "
                     "with the Spanish Observatory of Racism and Xenophobia (OBERAXE). A space to share "
                     "diagnoses and experiences of strategic planning: humanitarian care, coexistence, "
                     "housing, health, employment, social services, education, prevention of racism."
                 ),
                 objectives=[16, 17], principles=["whole-of-government"]),
            dict(ref="minors", kind="challenge", org="gva", named=False,
                 title="Different regional rules for unaccompanied foreign minors",
                 body=(
                     "The regions have competences on unaccompanied foreign minors and their "
                     "regulations vary. This **regulatory inequality** within the country hinders "
                     "cooperation."
                 ),
                 objectives=[7, 12], principles=["child-sensitive", "whole-of-government"]),
            dict(ref="focal-points", kind="challenge", org="dip_va", named=False,
                 title="Uncoordinated administrations and unknown focal points",
                 body=(
                     "Administrative bodies at the different levels are often uncoordinated. Much time "
                     "is lost identifying the focal point for each phase of a procedure (returns, for "
                     "example)."
                 ),
                 objectives=[12], principles=["whole-of-government"]),
            dict(ref="protocols", kind="proposal", org="dip_gu", named=False,
                 title="Well-structured protocols that name the competent actors",
                 body=(
                     "Agree protocols for each procedure in which the **competent actor at each level "
                     "is clearly identified**, with a named focal point."
                 ),
                 objectives=[12], principles=["whole-of-government"], answers=["focal-points", "minors"]),
            dict(ref="resettlement", kind="good_practice", org="dip_va", named=False,
                 title="Resettlement with sponsoring employers in the province of Valladolid",
                 body=(
                     "A pilot complementary pathway resettles Nicaraguan nationals and refugees from "
                     "Costa Rica in the province of Valladolid, with companies that offer them an "
                     "employment contract. 24 families have moved to Spain and 28 people are in training "
                     "or signing employment contracts."
                 ),
                 objectives=[5, 16], principles=["international-cooperation"]),
            dict(ref="local-resources", kind="proposal", org="valencia_city", named=True,
                 title="More competences and resources for regions and cities",
                 body=(
                     "Regions and cities are closest to the day-to-day management of migration: "
                     "transfer **more powers and more financial resources** to them, as the Spanish "
                     "network of refuge cities has repeatedly asked."
                 ),
                 objectives=[15, 16], principles=["whole-of-government"], answers=["arrivals"]),
            dict(ref="valencia-inclou", kind="good_practice", org="valencia_city", named=True,
                 title="València inclou: region and city together on housing",
                 body=(
                     "An agreement signed in November 2020 by the Regional Government of Valencia and "
                     "the City of Valencia to facilitate the integration of migrants and refugees, with "
                     "special attention to **housing**: 68 places in shelters and houses, and advice and "
                     "training for newcomers to live independently."
                 ),
                 objectives=[15, 16], principles=["whole-of-government"]),
        ],
    ),
    dict(
        key="valencia",
        organiser="valencia_city",
        title="Local Council on Immigration and Interculturality of the City of Valencia: 2026-2027 cycle",
        kind="local_council",
        opens_on=date(2026, 10, 1),
        closes_on=date(2027, 1, 31),
        territory="City of Valencia, Spain",
        focus=[15, 16, 17],
        eligibility="invited",
        invited=["cear_pv", "accem", "creu_roja", "valencia_acull", "mci", "intersindical", "colectiva"],
        state="open",
        created=datetime(2026, 9, 15, 9, 0),
        meeting=datetime(2026, 10, 5, 10, 0),
        state_changed=datetime(2026, 10, 1, 8, 0),
        # 81 members and 2 observers (seed). The seed names 14 civil-society members; the
        # others are illustrative, with a mix that reflects the documented imbalance.
        members=dict(
            named=["cear_pv", "accem", "creu_roja", "valencia_acull", "mci", "intersindical", "colectiva"],
            generated=[("ngo", 48), ("migrant_association", 13), ("diaspora_organisation", 4),
                       ("trade_union", 3), ("employers_organisation", 2), ("academia", 2), ("other", 2)],
            observers=[("academia", 1), ("international_organisation", 1)],
            joined_on=date(2016, 3, 1),
        ),
        roundtables=[
            dict(key="plenary", title="Plenary session of the Council", day=date(2027, 1, 14),
                 start=time(17, 0), end=time(19, 0), mode="hybrid",
                 place="Ajuntament de València, Sala de Cristall", capacity=90,
                 agenda="1. Access to housing\n2. Short-term subsidies and paperwork\n"
                        "3. Representation of migrant associations in the Council",
                 focus=[15, 16, 17]),
        ],
        description="""\
The City of Valencia's **Local Council on Immigration and Interculturality**, created in 2016
as a consultative, advisory and representative body to bring the voices of migrants and civil
society associations into local policy-making. It has **81 member associations and 2 observer
associations**; member organisations contribute here.

> A known weakness, noted by city officials: **migrants are under-represented** in the Council
> and NGOs over-represented; NGOs and associations tend to take the leading voice. Check who is
> actually speaking before publishing.
""",
        items=[
            dict(ref="housing", kind="challenge", org="creu_roja", named=False,
                 at=datetime(2026, 10, 5, 11, 0),
                 title="Access to housing",
                 body=(
                     "Housing prices are one of the main problems for all residents of Valencia, although "
                     "shelter is a basic need. With rents increasingly high, finding a home for refugees "
                     "and newcomers is crucial."
                 ),
                 objectives=[15]),
            dict(ref="short-term", kind="challenge", org="valencia_acull", named=False,
                 at=datetime(2026, 10, 12, 9, 30),
                 title="Short-term subsidies and excessive paperwork",
                 body=(
                     "Projects are subsidised on a short-term basis; NGOs must submit excessive "
                     "paperwork to compete for funding again and again."
                 ),
                 objectives=[16]),
            dict(ref="pluriannual", kind="proposal", org="cear_pv", named=True,
                 at=datetime(2026, 10, 20, 16, 0),
                 title="Pluriannual agreements between the city, the region and NGOs",
                 body=(
                     "Take a **long-term approach** to the projects the authorities and NGOs run "
                     "together: pluriannual agreements instead of yearly subsidies, so that "
                     "organisations with years of experience in the field can work more efficiently."
                 ),
                 objectives=[16, 15], principles=["whole-of-society"], answers=["short-term"]),
            dict(ref="my-city", kind="good_practice", org="accem", named=True,
                 at=datetime(2026, 10, 28, 12, 0),
                 title="My City, your Refuge (La meua ciutat, el teu refugi)",
                 body=(
                     "Support for vulnerable people (legal advice, financial support, housing, help with "
                     "paperwork), and training in human rights and international protection law for "
                     "associations and civil servants. Managed by Accem and CEAR-PV with the financial "
                     "support of the City Council."
                 ),
                 objectives=[7, 15, 16], principles=["human-rights"]),
            dict(ref="speak-loud", kind="good_practice", org="mci", named=True,
                 at=datetime(2026, 11, 9, 10, 0),
                 title="Speak Loud Against Racism (Apuja el to contra el racisme) in schools",
                 body=(
                     "Brings migration, refugees and integration into primary and secondary schools, "
                     "combats stereotypes through games, films and music, and gives real facts against "
                     "fake news. Civil society organisations, schools and the City Council work "
                     "together, and an increasing number of schools are joining."
                 ),
                 objectives=[17, 16], principles=["child-sensitive"]),
            dict(ref="voice", kind="challenge", org="colectiva", named=True,
                 at=datetime(2026, 11, 16, 18, 0),
                 title="Migrants' own voices are under-represented in the Council",
                 body=(
                     "Migrants are under-represented in the Council and find it difficult to have "
                     "their voice heard, while NGOs take the leading voice."
                 ),
                 objectives=[16], principles=["people-centred", "whole-of-society"]),
        ],
    ),
    dict(
        key="imrf_call",
        organiser="maec",
        title="Call for input on implementing the GCM after the 2026 International Migration Review Forum",
        kind="online_call",
        opens_on=date(2027, 2, 1),
        closes_on=date(2027, 3, 31),
        territory="Spain",
        focus=[1, 5, 7, 8, 15, 16, 17, 23],
        eligibility="registered",
        invited=[],
        state="draft",
        created=datetime(2026, 11, 10, 9, 0),
        meeting=None,
        state_changed=datetime(2026, 11, 10, 9, 0),
        description="""\
*Draft, not yet open.* An online call for input from civil society and the administrations on
Spain's implementation of the Global Compact for Migration, following the whole-of-society
and whole-of-government consultations held before each review.
""",
        items=[],
    ),
]


# -- building -----------------------------------------------------------------------
class _People:
    """Registers the demo logins and hands out one spokesperson per organisation."""

    def __init__(self, orgs: dict):
        self.orgs = orgs
        self.by_org: dict[str, object] = {}
        self.by_email: dict[str, object] = {}
        for login in _LOGINS:
            org_key = login["org"]
            user = register_user(
                login["email"],
                login["name"],
                login["password"],
                role=login["role"],
                organisation=orgs[org_key] if org_key else None,
            )
            self.by_email[user.email] = user
            if login["speaks_for"]:
                self.by_org[org_key] = user

    def _register(self, org_key: str, name: str, role: str = "participant"):
        return register_user(
            f"{org_key.replace('_', '.')}@{DOMAIN}",
            name,
            secrets.token_urlsafe(24),
            role=role,
            organisation=self.orgs[org_key],
        )

    def speaker(self, org_key: str):
        if org_key not in self.by_org:
            self.by_org[org_key] = self._register(org_key, f"{self.orgs[org_key].name} (demo member)")
        return self.by_org[org_key]


def _roundtables(spec: dict, consultation) -> dict:
    return {
        rt["key"]: create_roundtable(
            consultation, title=rt["title"], day=rt["day"], start=rt["start"], end=rt["end"],
            tz="Europe/Madrid", mode=rt["mode"], place=rt.get("place", ""), agenda=rt.get("agenda", ""),
            focus=rt.get("focus", ()), capacity=rt.get("capacity"),
        )
        for rt in spec.get("roundtables", ())
    }


def _follow_up_roundtables(spec: dict, roundtables: dict, raised: dict) -> None:
    """Carry open challenges forward, record attendance, publish minutes."""
    for rt in spec.get("roundtables", ()):
        roundtable = roundtables[rt["key"]]
        if rt.get("carry_from"):
            carry_forward(roundtable, raised.get(rt["carry_from"], []))
        if rt.get("walk_ins"):
            record_attendance(roundtable, [], rt["walk_ins"])
        if rt.get("minutes"):
            publish_minutes(roundtable, rt["minutes"])


def _members(spec: dict, consultation, orgs: dict) -> None:
    """Members and observers of a standing body (some named in the seed, others generated)."""
    members = spec.get("members")
    if not members:
        return
    joined = members["joined_on"]
    for key in members["named"]:
        add_member(consultation, orgs[key], status="member", joined_on=joined)
    n = 0
    for status, groups in (("member", members["generated"]), ("observer", members["observers"])):
        for category, count in groups:
            for _ in range(count):
                n += 1
                org = create_organisation(f"Valencia council {status} association {n:02d} (illustrative)", category)
                add_member(consultation, org, status=status, joined_on=joined)


def _build(spec: dict, orgs: dict, people: _People) -> None:
    consultation = create_consultation(
        people.speaker(spec["organiser"]),
        title=spec["title"],
        kind=spec["kind"],
        opens_on=spec["opens_on"],
        closes_on=spec["closes_on"],
        description=spec["description"],
        territory=spec["territory"],
        language="en",
        focus=spec["focus"],
        eligibility=spec["eligibility"],
        invited=[orgs[k] for k in spec["invited"]],
    )
    for email in spec.get("co_organisers", ()):
        add_organiser(consultation, email)

    path = _PATHS[spec["state"]]
    if path:
        change_state(consultation, path[0])
    ids: dict[str, int] = {}
    _members(spec, consultation, orgs)
    roundtables = _roundtables(spec, consultation)
    raised: dict[str, list[int]] = {}
    notes = spec.get("notes", {})
    for n, item in enumerate(spec["items"]):
        body = item["body"]
        if item["kind"] in notes:
            body += "\n\n" + notes[item["kind"]]
        contribution = submit_contribution(
            consultation,
            people.speaker(item["org"]),
            kind=item["kind"],
            title=item["title"],
            body=body,
            objectives=item["objectives"],
            principles=item.get("principles", ()),
            answers=[ids[ref] for ref in item.get("answers", ())],
            name_organisation=item["named"],
        )
        ids[item["ref"]] = contribution.id
        key = item.get("raised_at") or spec.get("heard_at")
        if key:  # heard at one of the consultation's meetings
            contribution.roundtable_id = roundtables[key].id
            if item["kind"] == "challenge":
                raised.setdefault(key, []).append(contribution.id)
        said_at = item.get("at") or spec["meeting"] + timedelta(minutes=7 * n)
        contribution.created_at = contribution.updated_at = said_at
    _follow_up_roundtables(spec, roundtables, raised)
    for target in path[1:]:
        change_state(consultation, target)

    consultation.created_at = spec["created"]
    consultation.state_changed_at = consultation.updated_at = spec["state_changed"]


def load_demo() -> None:
    """Create the demo organisations, accounts, consultations and contributions."""
    orgs = {key: create_organisation(name, category, level) for key, name, category, level in ORGANISATIONS}
    people = _People(orgs)
    for spec in CONSULTATIONS:
        _build(spec, orgs, people)
    db.session.flush()
