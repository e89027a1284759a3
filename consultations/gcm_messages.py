"""The GCM vocabulary (data/gcm.json), listed so that ``pybabel extract`` puts it in the
catalogues. Generated from data/gcm.json: regenerate when it changes. Nothing imports
this module; reference.py translates the titles with ``gettext(english_title)``.

Every translation in the catalogues is marked "not official UN wording": the official
Arabic, French and Spanish texts of A/RES/73/195 were not at hand to check word for word,
and there is no official Portuguese text."""
from .reference import N_

OBJECTIVES = (
    # NOTE: not official UN wording
    N_("Collect and utilize accurate and disaggregated data as a basis for evidence-based policies"),  # objective 1
    # NOTE: not official UN wording
    N_("Minimize the adverse drivers and structural factors that compel people to leave their country of origin"),  # objective 2
    # NOTE: not official UN wording
    N_("Provide accurate and timely information at all stages of migration"),  # objective 3
    # NOTE: not official UN wording
    N_("Ensure that all migrants have proof of legal identity and adequate documentation"),  # objective 4
    # NOTE: not official UN wording
    N_("Enhance availability and flexibility of pathways for regular migration"),  # objective 5
    # NOTE: not official UN wording
    N_("Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work"),  # objective 6
    # NOTE: not official UN wording
    N_("Address and reduce vulnerabilities in migration"),  # objective 7
    # NOTE: not official UN wording
    N_("Save lives and establish coordinated international efforts on missing migrants"),  # objective 8
    # NOTE: not official UN wording
    N_("Strengthen the transnational response to smuggling of migrants"),  # objective 9
    # NOTE: not official UN wording
    N_("Prevent, combat and eradicate trafficking in persons in the context of international migration"),  # objective 10
    # NOTE: not official UN wording
    N_("Manage borders in an integrated, secure and coordinated manner"),  # objective 11
    # NOTE: not official UN wording
    N_("Strengthen certainty and predictability in migration procedures for appropriate screening, assessment and referral"),  # objective 12
    # NOTE: not official UN wording
    N_("Use migration detention only as a measure of last resort and work towards alternatives"),  # objective 13
    # NOTE: not official UN wording
    N_("Enhance consular protection, assistance and cooperation throughout the migration cycle"),  # objective 14
    # NOTE: not official UN wording
    N_("Provide access to basic services for migrants"),  # objective 15
    # NOTE: not official UN wording
    N_("Empower migrants and societies to realize full inclusion and social cohesion"),  # objective 16
    # NOTE: not official UN wording
    N_("Eliminate all forms of discrimination and promote evidence-based public discourse to shape perceptions of migration"),  # objective 17
    # NOTE: not official UN wording
    N_("Invest in skills development and facilitate mutual recognition of skills, qualifications and competences"),  # objective 18
    # NOTE: not official UN wording
    N_("Create conditions for migrants and diasporas to fully contribute to sustainable development in all countries"),  # objective 19
    # NOTE: not official UN wording
    N_("Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants"),  # objective 20
    # NOTE: not official UN wording
    N_("Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration"),  # objective 21
    # NOTE: not official UN wording
    N_("Establish mechanisms for the portability of social security entitlements and earned benefits"),  # objective 22
    # NOTE: not official UN wording
    N_("Strengthen international cooperation and global partnerships for safe, orderly and regular migration"),  # objective 23
)

GUIDING_PRINCIPLES = (
    # NOTE: not official UN wording
    N_("People-centred"),
    # NOTE: not official UN wording
    N_("International cooperation"),
    # NOTE: not official UN wording
    N_("National sovereignty"),
    # NOTE: not official UN wording
    N_("Rule of law and due process"),
    # NOTE: not official UN wording
    N_("Sustainable development"),
    # NOTE: not official UN wording
    N_("Human rights"),
    # NOTE: not official UN wording
    N_("Gender-responsive"),
    # NOTE: not official UN wording
    N_("Child-sensitive"),
    # NOTE: not official UN wording
    N_("Whole-of-government approach"),
    # NOTE: not official UN wording
    N_("Whole-of-society approach"),
)

# The review questionnaire (data/review_template.json): questions 1-5 and the recommended
# actions a-k of question 2, shown in the summaries. Regenerate it if that file changes.
REVIEW_QUESTIONS = (
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Has your government developed a GCM national implementation plan or integrated the GCM and its guiding principles into existing frameworks, plans and policies? If so, please elaborate on the process."),  # question 1
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("How has or will your government integrate the recommended actions to accelerate the implementation of the GCM as set out in the IMRF Progress Declaration into their relevant national policies and plans, and reflected in their engagements in relevant international fora?"),  # question 2
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Measures taken to promote the recognition of migrants as an integral part of society"),  # question 2 (a)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Elimination of all forms of discrimination"),  # question 2 (b)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Respect, protection and guarantee of human rights, including minors, victims of gender-based violence, victims of trafficking and vulnerable groups"),  # question 2 (c)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Transparency and truthful, objective and reliable information"),  # question 2 (d)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Elimination of adverse and structural factors that prevent people from creating and maintaining sustainable livelihoods and fulfilling their personal aspirations and tackling the root causes of migration"),  # question 2 (e)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Improvement and diversification of the pathways available for safe, orderly and regular migration"),  # question 2 (f)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Cooperation for a return in dignity and safety"),  # question 2 (g)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Facilitation of mutual recognition of migrants' formally and informally acquired skills and competences"),  # question 2 (h)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Providing migrants with access to basic services"),  # question 2 (i)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Fight against irregular migration, mafias and smugglers, who endanger the lives of migrants"),  # question 2 (j)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Improvement of search and rescue activities"),  # question 2 (k)
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("List some examples of promising practices and lessons learned that relate to inter- and cross-regional collaboration"),  # question 3
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("What are the main gaps and challenges to existing inter- and cross-regional collaboration on the implementation of the GCM?"),  # question 4
    # NOTE: not official UN wording (questionnaire of the UNECE regional review of the GCM)
    N_("Outline areas (GCM objectives and/or guiding principles) where the region would benefit from strengthened cooperation in terms of finance, capacity-building, policy advice, data gathering and analysis, technology, multi-stakeholder partnerships, etc."),  # question 5
)
