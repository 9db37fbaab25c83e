/**
 * Mappers added by docs/decisions/0037: advance directives (Consent with scope adr) into their
 * own section, diagnostic reports with their results as links to the records those results
 * became, and the organizations and locations of the care team.
 */
import { ADVANCE_DIRECTIVE_LOINC, CONSENT_SCOPE, CONSENT_STATUSES, PATIENT_HELD_POLICY } from '../../../../crdt-schemas/health/advance-directive.ts';
import { LOINC } from '../../../../crdt-schemas/health/common.ts';
import { DIAGNOSTIC_REPORT_STATUSES } from '../../../../crdt-schemas/health/diagnostic-report.ts';
import { profileReference, type MapContext } from './import-context.ts';
import { address, addresses, bool, clean, concept, concepts, contactPoints, isObject, objects, oneOf, period, statusConcept, str, type Json } from './import-values.ts';

const AD_CODES = new Set<string>(ADVANCE_DIRECTIVE_LOINC);

/** A Consent is an advance directive when its scope is `adr` or its category is LOINC 42348-3/75320-2. */
export function isAdvanceDirective(r: Json): boolean {
  const scopeAdr = isObject(r.scope) && objects(r.scope.coding).some((c) => c.system === CONSENT_SCOPE && c.code === 'adr');
  return scopeAdr || objects(r.category).some((c) => objects(c.coding).some((x) => typeof x.code === 'string' && AD_CODES.has(x.code)));
}

export function mapAdvanceDirective(r: Json): Json {
  const scope = statusConcept(r.scope, CONSENT_SCOPE);
  const category = concepts(r.category);
  const policy = objects(r.policy)
    .map((p) => clean({ authority: str(p.authority), uri: str(p.uri) }))
    .filter((p) => Object.keys(p).length > 0);
  const provision = isObject(r.provision)
    ? clean({ type: oneOf(r.provision.type, ['deny', 'permit']), period: period(r.provision.period), code: concepts(r.provision.code) })
    : undefined;
  return clean({
    resourceType: 'Consent',
    status: oneOf(r.status, CONSENT_STATUSES),
    // Its scope is adr whether the file said so there or only in its category.
    scope: scope && objects(scope.coding).every((c) => c.code === 'adr') ? scope : { coding: [{ system: CONSENT_SCOPE, code: 'adr' }] },
    category: category.length > 0 ? category : [{ text: 'Advance directive', coding: [{ system: LOINC, code: '42348-3' }] }],
    dateTime: str(r.dateTime),
    policyRule: concept(r.policyRule) ?? (policy.length === 0 ? { ...PATIENT_HELD_POLICY } : undefined),
    policy,
    provision: provision && Object.keys(provision).length > 0 ? provision : undefined,
  });
}

/** A report with its results as `lab-results/<id>` / `list:vitals/<id>` links (and their names). */
export function mapDiagnosticReport(r: Json, ctx: MapContext): Json {
  return clean({
    resourceType: 'DiagnosticReport',
    status: oneOf(r.status, DIAGNOSTIC_REPORT_STATUSES),
    category: concepts(r.category),
    code: concept(r.code),
    effectiveDateTime: str(r.effectiveDateTime),
    effectivePeriod: period(r.effectivePeriod),
    issued: str(r.issued),
    performer: references(objects(r.performer), r, ctx),
    result: references(objects(r.result), r, ctx),
    conclusion: str(r.conclusion),
    conclusionCode: concepts(r.conclusionCode),
  });
}

/** Organizations and locations need a name to be shown in the care team; without one they are kept. */
export const hasPlaceName = (r: Json): boolean => str(r.name) !== undefined;

/** Work contact points only (FHIR org-2/org-3: an organization has no home address or phone). */
const workContacts = (v: unknown): Json[] => contactPoints(v).filter((c) => c.use !== 'home');

export function mapOrganization(r: Json): Json {
  return clean({
    resourceType: 'Organization',
    active: bool(r.active),
    name: str(r.name)?.trim(),
    type: concepts(r.type),
    telecom: workContacts(r.telecom),
    address: addresses(objects(r.address).filter((a) => a.use !== 'home')),
  });
}

export function mapLocation(r: Json, ctx: MapContext): Json {
  return clean({
    resourceType: 'Location',
    status: oneOf(r.status, ['active', 'suspended', 'inactive']),
    name: str(r.name)?.trim(),
    type: concepts(r.type),
    telecom: workContacts(r.telecom),
    address: address(r.address),
    managingOrganization: profileReference(r.managingOrganization, r, ctx),
  });
}

const references = (refs: unknown[], from: Json, ctx: MapContext): Json[] => refs.map((x) => profileReference(x, from, ctx)).filter((x): x is Json => x !== undefined);
