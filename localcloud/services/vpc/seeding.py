"""Loading the VPC part of a seed project document (schema: ``localcloud/schemas/seed.json``).

Seeding is additive: loading into a project that already has state adds to it, and names used
in references (a subnet of a port, a rule's ``remote_group``) resolve against everything the
project has. Semantics worth knowing:

* a security group with no ``rules`` key gets the automatic egress rules of a new group; with
  ``rules`` it has exactly those rules;
* a group named ``default`` without an ``id`` adds its rules to the project's default group;
  the summary always maps ``default`` to the default group's id;
* a rule's ``remote_group`` is resolved after every group of the document exists;
* seed ports default to the default group, ``device_owner`` "" and ``device_id`` "".
"""

from __future__ import annotations

from localcloud.core.errors import CloudError

from .errors import SEED_INVALID, seed_invalid

__all__ = ["load_vpc_seed"]


def _add_name(mapping: dict, name: str, ident: str) -> None:
    if name not in mapping:
        mapping[name] = ident
    elif isinstance(mapping[name], list):
        mapping[name].append(ident)
    else:
        mapping[name] = [mapping[name], ident]


def load_vpc_seed(model, project_doc: dict) -> dict:
    summary: dict = {"vpcs": {}, "subnets": {}, "security_groups": {"default": model._default_sg_id}, "ports": {}}
    pid = project_doc.get("id", model.project.project_id)
    try:
        for v_index, vpc_doc in enumerate(project_doc.get("vpcs", [])):
            where = f"$.projects[{pid}].vpcs[{v_index}]"
            vpc = _wrap(where, model.create_vpc, name=vpc_doc["name"], cidr=vpc_doc["cidr"], vpc_id=vpc_doc.get("id"))
            _add_name(summary["vpcs"], vpc["name"], vpc["id"])
            for s_index, subnet_doc in enumerate(vpc_doc.get("subnets", [])):
                subnet = _wrap(
                    f"{where}.subnets[{s_index}]",
                    model.create_subnet,
                    vpc_id=vpc["id"],
                    name=subnet_doc["name"],
                    cidr=subnet_doc["cidr"],
                    subnet_id=subnet_doc.get("id"),
                    gateway_ip=subnet_doc.get("gateway_ip"),
                    availability_zone=subnet_doc.get("availability_zone"),
                )
                _add_name(summary["subnets"], subnet["name"], subnet["id"])

        pending_rules: list[tuple[str, str, dict]] = []
        for g_index, group_doc in enumerate(project_doc.get("security_groups", [])):
            where = f"$.projects[{pid}].security_groups[{g_index}]"
            if group_doc["name"] == "default" and not group_doc.get("id"):
                group_id = model._default_sg_id
            else:
                group = _wrap(
                    where,
                    model.create_security_group,
                    name=group_doc["name"],
                    description=group_doc.get("description", ""),
                    sg_id=group_doc.get("id"),
                    enterprise_project_id=group_doc.get("enterprise_project_id"),
                    rules=group_doc.get("rules"),
                )
                group_id = group["id"]
            if group_id != model._default_sg_id:
                _add_name(summary["security_groups"], group_doc["name"], group_id)
            for r_index, rule_doc in enumerate(group_doc.get("rules", [])):
                pending_rules.append((f"{where}.rules[{r_index}]", group_id, rule_doc))

        for where, group_id, rule_doc in pending_rules:
            fields = {key: value for key, value in rule_doc.items() if key not in ("remote_group", "id")}
            if rule_doc.get("remote_group"):
                remote = _wrap(f"{where}.remote_group", model.resolve_security_group, rule_doc["remote_group"])
                fields["remote_group_id"] = remote["id"]
            _wrap(where, model.add_rule, group_id, rule_id=rule_doc.get("id"), **fields)

        for p_index, port_doc in enumerate(project_doc.get("ports", [])):
            where = f"$.projects[{pid}].ports[{p_index}]"
            subnet = _wrap(f"{where}.subnet", model.subnet, port_doc["subnet"])
            groups = [
                _wrap(f"{where}.security_groups", model.resolve_security_group, ref)["id"]
                for ref in port_doc.get("security_groups", [])
            ]
            port = _wrap(
                where,
                model.create_port,
                subnet_id=subnet["id"],
                device_id=port_doc.get("device_id", ""),
                device_owner=port_doc.get("device_owner", ""),
                security_group_ids=groups,
                ip_address=port_doc.get("ip_address"),
                port_id=port_doc.get("id"),
                port_security_enabled=port_doc.get("port_security_enabled", True),
                name=port_doc.get("name", ""),
            )
            _add_name(summary["ports"], port["name"] or port["id"], port["id"])
    except KeyError as missing:  # pragma: no cover - the schema requires these keys
        raise seed_invalid(f"missing key {missing}") from None
    return summary


def _wrap(where: str, function, *args, **kwargs):
    """Re-raise a model error as a seed error that says where in the document it happened."""
    try:
        return function(*args, **kwargs)
    except CloudError as error:
        if error.code == SEED_INVALID:
            raise
        raise seed_invalid(f"{where}: {error.code} {error.message}") from None
