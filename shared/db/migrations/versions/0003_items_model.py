"""Items as a tracker keeps them: the catalog (item types, projects, users, customers and contacts,
statuses, workflow steps, custom fields), per-account item settings, item links and notification
lists; seeds the default item types, statuses and steps.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ITEM_TYPES = [("incident", "Incident"), ("defect", "Defect"), ("user-story", "User story / feature")]
STATUSES = [("new", "New", 1, False), ("open", "Open", 2, False), ("waiting", "Waiting", 3, False),
            ("closed", "Closed", 4, True)]
# (name, label, position, status, on_new_mail): a customer's answer takes a waiting or finished item
# back to the agents.
STEPS = [("triage", "Triage", 1, "new", None), ("in-progress", "In progress", 2, "open", None),
         ("waiting-for-customer", "Waiting for customer", 3, "waiting", "in-progress"),
         ("done", "Done", 4, "closed", "in-progress")]


def _json(default: str) -> dict:
    return {"nullable": False, "server_default": sa.text(f"'{default}'")}


def upgrade() -> None:
    item_types = op.create_table(
        "item_types",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False))
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("notify", sa.JSON(), **_json("[]")))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("domains", sa.JSON(), **_json("[]")))
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("failing", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failing_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_contacts_customer_id", "contacts", ["customer_id"])
    statuses = op.create_table(
        "statuses",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false()))
    steps = op.create_table(
        "workflow_steps",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("on_new_mail", sa.String(60), nullable=True))
    op.create_table(
        "custom_fields",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="text"),
        sa.Column("choices", sa.JSON(), **_json("[]")))

    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("creator", sa.String(320), nullable=True))
        batch.add_column(sa.Column("field_mapping", sa.JSON(), **_json("{}")))
        batch.add_column(sa.Column("default_values", sa.JSON(), **_json("{}")))
        batch.add_column(sa.Column("save_attachments", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("add_sender_to_notify", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("map_senders", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("quiet_on_create", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("reply_status", sa.String(40), nullable=True))
        batch.add_column(sa.Column("reply_moves_step", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("reopen_closed", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("attribute_forwards", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("trusted_authserv_ids", sa.JSON(), **_json("[]")))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("step", sa.String(60), nullable=True))
        batch.add_column(sa.Column("creator_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fields", sa.JSON(), **_json("{}")))
        batch.add_column(sa.Column("item_date", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_items_creator_id_users", "users", ["creator_id"], ["id"])
        batch.create_foreign_key("fk_items_customer_id_customers", "customers", ["customer_id"], ["id"])
        batch.create_foreign_key("fk_items_contact_id_contacts", "contacts", ["contact_id"], ["id"])
        batch.create_index("ix_items_customer_id", ["customer_id"])
    with op.batch_alter_table("item_mails") as batch:
        batch.add_column(sa.Column("decision", sa.JSON(), **_json("{}")))

    op.create_table(
        "item_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("other_item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "other_item_id", "kind"))
    op.create_index("ix_item_links_item_id", "item_links", ["item_id"])
    op.create_index("ix_item_links_other_item_id", "item_links", ["other_item_id"])
    op.create_table(
        "item_notify",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("added_because", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "address"))
    op.create_index("ix_item_notify_item_id", "item_notify", ["item_id"])

    op.bulk_insert(item_types, [{"name": n, "label": label} for n, label in ITEM_TYPES])
    op.bulk_insert(statuses, [{"name": n, "label": label, "position": p, "closed": c}
                              for n, label, p, c in STATUSES])
    op.bulk_insert(steps, [{"name": n, "label": label, "position": p, "status": s, "on_new_mail": o}
                           for n, label, p, s, o in STEPS])
    # A counter row per seeded type, so the first items of a type never race to insert it.
    conn = op.get_bind()
    have = {r[0] for r in conn.execute(sa.text("SELECT item_type FROM item_sequences"))}
    for name, _ in ITEM_TYPES:
        if name not in have:
            conn.execute(sa.text("INSERT INTO item_sequences (item_type, last_number) VALUES (:t, 0)"),
                         {"t": name})


def downgrade() -> None:
    for index, table in (("ix_item_notify_item_id", "item_notify"), ("ix_item_links_other_item_id", "item_links"),
                         ("ix_item_links_item_id", "item_links")):
        op.drop_index(index, table_name=table)
    op.drop_table("item_notify")
    op.drop_table("item_links")
    with op.batch_alter_table("item_mails") as batch:
        batch.drop_column("decision")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_customer_id")
        for fk in ("fk_items_contact_id_contacts", "fk_items_customer_id_customers", "fk_items_creator_id_users"):
            batch.drop_constraint(fk, type_="foreignkey")
        for col in ("item_date", "fields", "contact_id", "customer_id", "creator_id", "step"):
            batch.drop_column(col)
    with op.batch_alter_table("accounts") as batch:
        for col in ("trusted_authserv_ids", "attribute_forwards", "reopen_closed", "reply_moves_step",
                    "reply_status", "quiet_on_create", "map_senders", "add_sender_to_notify",
                    "save_attachments", "default_values", "field_mapping", "creator"):
            batch.drop_column(col)
    op.drop_table("custom_fields")
    op.drop_table("workflow_steps")
    op.drop_table("statuses")
    op.drop_index("ix_contacts_customer_id", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("customers")
    op.drop_table("users")
    op.drop_table("projects")
    op.drop_table("item_types")
