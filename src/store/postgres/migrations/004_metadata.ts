/** 004: a task's metadata, the structured state its worker reports while it runs (JSON text). */
export const sql = /* sql */ `
ALTER TABLE tasks ADD COLUMN metadata text;
`;
