/**
 * Imported FHIR resources that map to no section (docs/decisions/0029): shown by type, kept as
 * they came. The form only names the type; everything else of the resource is carried unchanged.
 */
import { defineForm, field, getIn, plain, type Rec } from './bind.ts';
import type { SectionForm } from './types.ts';

export const keptForm: SectionForm = defineForm({
  section: 'kept',
  title: 'Other imported records',
  singular: 'imported record',
  parts: [field({ name: 'resourceType', label: 'Resource type', kind: 'text', required: true, placeholder: 'e.g. CarePlan' }, ['resource', 'resourceType'], plain)],
  summary: (r: Rec) => ({ title: typeof getIn(r, ['resource', 'resourceType']) === 'string' ? (getIn(r, ['resource', 'resourceType']) as string) : 'Imported record' }),
});
