"""What authoring announces, for the apps that build on it to act on.

sandbox imports nothing from coaching (make lint enforces it), yet editing a draft that
is under review or approved has consequences that coaching owns: the claim is released,
the approval is void, a queued publication is cancelled. So sandbox announces the edit
and coaching, which connects its receiver in CoachingConfig.ready, decides. The signal is
sent inside the edit's transaction and its receivers' errors are not swallowed, so the new
revision and its consequences commit or fail together.
"""

from django.dispatch import Signal

# A draft has a new revision. Sent with draft= (locked for update) and revision=.
draft_revised = Signal()

# Wrong passwords have locked sign-in to an account or from an address (sandbox.signin).
# Sent with request=, user= (the account the login names, or None), login= (as typed),
# scope= ("account" or "address") and wait_seconds=.
sign_in_locked = Signal()

# seed_demo has made (or refreshed) the demo organisation. Sent with organisation=,
# account= (its X account) and users= ({"admin", "coach", "trainee"}: User), inside the
# command's transaction, so apps that build on sandbox can add their own demo rows.
demo_seeded = Signal()
