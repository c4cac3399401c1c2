/*
 * ServiceNow business rule: send an approved change to sgguard, signed (docs/ticketing.md).
 *
 *   Table:     Change Request [change_request]
 *   When:      async (after update), Condition: current.approval.changesTo('approved')
 *              && !current.u_sgguard_server.nil()
 *   Needs:     the Script Include "SgguardSign" = recipes/javascript/sgguard-sign.js pasted as it is
 *              (plain ES5, no platform API: it runs in either JavaScript mode);
 *              system properties
 *                x_sgguard.url            the API's URL (APIG trigger with auth NONE:
 *                                         https://GROUP.apic.REGION.huaweicloudapis.com/sgguard/change-requests)
 *                x_sgguard.key_id         the key id sgguard knows this instance by (REQUEST_SIGNING_KEYS)
 *                x_sgguard.signing_secret type password2: the HMAC secret (16+ characters), never logged
 *              change fields (rename to yours): u_sgguard_server (the ECS server id),
 *              u_sgguard_action (add | remove | replace | reorder), u_sgguard_groups (comma list of
 *              group names in priority order), u_sgguard_position (integer, optional).
 *
 * sgguardChangeRequest() only maps the record (no I/O): recipes' tests run it, and the signing, in
 * node against the Python verifier. The REST call and the work note are the platform's part.
 */

/** The sgguard change request (shared/schemas/change_request.v1.json) of a change record. */
function sgguardChangeRequest(change, approvers, instanceUrl) {
  var groups = String(change.getValue("u_sgguard_groups") || "").split(",");
  var refs = [];
  for (var i = 0; i < groups.length; i++) {
    var name = groups[i].replace(/^\s+|\s+$/g, "");
    if (name) {
      refs.push({ name: name });
    }
  }
  var number = String(change.getValue("number"));
  var request = {
    request_id: number + "-" + String(change.getValue("sys_mod_count")),  // one request per approved version
    ticket: {
      system: "servicenow",
      id: number,
      requested_by: String(change.getDisplayValue("requested_by.email") || change.getDisplayValue("requested_by")),
      url: instanceUrl + String(change.getLink(true))  // glide.servlet.uri + change_request.do?sys_id=...
    },
    target: { server_id: String(change.getValue("u_sgguard_server")), nics: "primary" },
    change: { action: String(change.getValue("u_sgguard_action") || "add"), security_groups: refs }
  };
  if (approvers && approvers.length) {
    request.ticket.approved_by = approvers[0];
  }
  var position = change.getValue("u_sgguard_position");
  if (position !== null && position !== undefined && String(position) !== "") {
    request.change.position = parseInt(String(position), 10);
  }
  return request;
}

/** The approvers' e-mail addresses, first approval first. */
function sgguardApprovers(change) {
  var found = [];
  var approval = new GlideRecord("sysapproval_approver");
  approval.addQuery("sysapproval", change.getUniqueValue());
  approval.addQuery("state", "approved");
  approval.orderBy("sys_updated_on");
  approval.query();
  while (approval.next()) {
    found.push(String(approval.approver.email));
  }
  return found;
}

(function executeRule(current, previous /* null when async */) {
  var body;
  try {
    var instanceUrl = String(gs.getProperty("glide.servlet.uri", ""));
    var request = sgguardChangeRequest(current, sgguardApprovers(current), instanceUrl);
    body = SgguardSign.signedBody(request, {
      keyId: String(gs.getProperty("x_sgguard.key_id", "")),  // a missing property: "", refused
      secret: String(gs.getProperty("x_sgguard.signing_secret", ""))
    });
  } catch (e) {
    current.work_notes = "sgguard: not sent: " + e.message;  // SigningError messages never hold the secret
    current.update();
    return;
  }
  var message = new sn_ws.RESTMessageV2();
  message.setEndpoint(String(gs.getProperty("x_sgguard.url", "")));
  message.setHttpMethod("post");
  message.setRequestHeader("Content-Type", "application/json");
  message.setRequestBody(body);
  var response = message.execute();
  var status = response.getStatusCode();
  // 200: every result is in the answer; 400: rejected (the errors say why, with their JSON path).
  // The rule's condition (approval changes to approved) is false on this update: no loop.
  current.work_notes = "sgguard answered " + status + ": " + String(response.getBody()).substring(0, 3000);
  current.update();
})(current, previous);
