// name: claims_after_death
// description: Claims that started after the insured person's recorded death date, newest death first
MATCH (p:Patient)-[:HAS_CLAIM]->(c:Claim)
WHERE p.death_date IS NOT NULL AND c.start_date > p.death_date
RETURN p.person_id AS person_id, p.name AS name, p.death_date AS death_date, c.scheme AS scheme,
       c.claim_id AS claim_id, c.institution_id AS institution_id, c.start_date AS start_date,
       c.reimbursed_amount AS reimbursed_amount
ORDER BY death_date DESC, person_id, start_date, scheme, claim_id
