/**
 * The health-record schemas as the state layer sees them: types, section names, vital-sign
 * specs and the one validation entry point (crdt-schemas/health). The UI reaches them only
 * through src/lib/state.
 */
export * from '../../../crdt-schemas/health/index.ts';
