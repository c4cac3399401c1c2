"""IAM emulation: what ``sgguard bootstrap`` calls to create the functions' agency — the account's
domain (KeystoneListAuthDomains), agencies (CreateAgency / ListAgencies), custom policies for
cloud services (CreateCloudServiceCustomPolicy / ListCustomPolicies / UpdateCloudServiceCustomPolicy)
and a policy granted to an agency on one project (AssociateAgencyWithProjectPermission /
CheckProjectPermissionForAgency / ListProjectPermissionsForAgency); and what sgguard's targets read:
the projects of the caller's account in every region (KeystoneListProjects), from the shared
:class:`localcloud.core.accounts.Directory`.

IAM is global to an account; localcloud keeps it per project (one account per credential), as
every other service. Importing registers the ``iam`` model.
"""

from __future__ import annotations

from localcloud.core.state import register_model

from .models import IamModel
from .routes import router

__all__ = ["IamModel", "ROUTERS"]

register_model("iam", IamModel)

ROUTERS = [router]
