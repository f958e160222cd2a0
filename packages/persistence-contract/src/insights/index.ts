/*
 * What the stored facts say about actors (`@papyra/persistence-contract/insights`): an inventory
 * (`papyra actors`) and one actor's timeline with restart storms (`papyra explain`). Both read
 * through the list filters and streams of the contract, so they work on every backend.
 */
export { actorInventory, compareAddresses, type ActorSummary, type ActorState, type InventoryOptions } from './actors.js';
export { summarizeStore, type StoreSummary, type Count } from './summary.js';
export { explainActor, type ActorExplanation, type TimelineEntry, type RestartStorm, type Decision } from './explain.js';
