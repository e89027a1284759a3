"""Every model, imported in one place for Alembic and the app factory."""
from .accounts.models import User  # noqa: F401
from .consultations.models import (  # noqa: F401
    Consultation,
    ConsultationObjective,
    consultation_invitations,
    consultation_organisers,
)
from .contributions.models import (  # noqa: F401
    Contribution,
    ContributionObjective,
    ContributionPrinciple,
    Flag,
    proposal_answers,
)
from .organisations.models import Organisation  # noqa: F401
from .roundtables.models import (  # noqa: F401
    ChallengeDiscussion,
    CouncilMember,
    Registration,
    Roundtable,
    RoundtableObjective,
    WalkIn,
    roundtable_facilitators,
)
from .accounts.models import AccountToken  # noqa: F401,E402
from .audit.models import AuditEvent  # noqa: F401,E402
from .summaries.models import SectionPin, Summary, SummarySection, SummaryVersion  # noqa: F401,E402
from .jobs.models import Job  # noqa: F401,E402
from .objectives.models import ObjectiveCount  # noqa: F401,E402
