"""Create (or refresh) the demo organisation. Safe to run any number of times."""

import dataclasses
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sandbox import scenario_scripts
from sandbox.models import Cohort, Membership, Organisation, Scenario, WorkplaceAccount
from sandbox.signals import demo_seeded

DEMO_USERS = [
    # username, full name, role, password
    ("admin", "Amira", "Admin", Membership.Role.ADMIN, "sandpit-admin"),
    ("coach", "Chris", "Coach", Membership.Role.COACH, "sandpit-coach"),
    ("trainee", "Taylor", "Trainee", Membership.Role.TRAINEE, "sandpit-trainee"),
]


class Command(BaseCommand):
    help = (
        "Create the demo organisation, its X account (pointed at the X API double) and demo users."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with SANDPIT_ENV=production."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "seed_demo creates users with published passwords; it will not run in "
                "production without --force."
            )
        with transaction.atomic():
            # Earned autonomy is on, so the demo can show a trainee earning spot-checks.
            # Second factors are off, so the published demo logins work with a password
            # alone (a real organisation has them on: the model's default).
            organisation, _ = Organisation.objects.update_or_create(
                slug="nhs-demo-board",
                defaults={
                    "name": "NHS Demo Board",
                    "autonomy_streak": 5,
                    "second_factor_required": False,
                },
            )
            cohort, _ = Cohort.objects.get_or_create(
                organisation=organisation, name="Winter 2026 intake"
            )
            account, created = WorkplaceAccount.objects.get_or_create(
                platform=WorkplaceAccount.Platform.X,
                handle="NHSDemoBoard",
                defaults={"organisation": organisation, "display_name": "NHS Demo Board"},
            )
            if created or not account.access_token:
                account.access_token = settings.XDOUBLE_DEMO_TOKEN
                account.status = WorkplaceAccount.Status.ACTIVE
                account.status_detail = ""
                account.save()
            User = get_user_model()
            users = {}
            for username, first, last, role, password in DEMO_USERS:
                user, _ = User.objects.get_or_create(username=username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@demo.sandpit.invalid"
                user.is_staff = user.is_superuser = role == Membership.Role.ADMIN
                user.set_password(password)
                user.save()
                Membership.objects.update_or_create(
                    user=user, organisation=organisation, defaults={"role": role}
                )
                users[username] = user
            # The trainee has a named coach and a cohort, as a real trainee would.
            Membership.objects.filter(user=users["trainee"], organisation=organisation).update(
                coach=users["coach"], cohort=cohort
            )
            # The admin owns the account day to day; coaching adds the cover rota and a
            # few posts to its inbox (sandbox.signals.demo_seeded), so the inbox is alive
            # before the X double generates any mentions.
            WorkplaceAccount.objects.filter(pk=account.pk).update(owner=users["admin"])
            account.owner = users["admin"]
            demo_seeded.send(
                sender=self.__class__, organisation=organisation, account=account, users=users
            )
            # The example exercises, ready for the coach to start for the trainee.
            for example in scenario_scripts.SCENARIOS:
                Scenario.objects.get_or_create(
                    organisation=organisation,
                    title=example.title,
                    defaults={
                        "description": example.description,
                        "items": [dataclasses.asdict(item) for item in example.items],
                    },
                )
        self.stdout.write(
            self.style.SUCCESS(
                "Demo organisation ready: NHS Demo Board, @NHSDemoBoard on X (the X API double)."
            )
        )
        self.stdout.write(
            self.style.WARNING(
                "Second factors are OFF for the demo organisation: coaches and admins sign in "
                "with a password alone. Every other organisation requires one."
            )
        )
        self.stdout.write("Sign in as:")
        for username, _first, _last, role, password in DEMO_USERS:
            self.stdout.write(f"  {username:<8} password {password:<16} ({role})")
