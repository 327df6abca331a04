-- DuckDB twin of claims_after_death.cypher
SELECT p.person_id, p.name, p.death_date, c.scheme, c.claim_id, c.institution_id, c.start_date,
       c.reimbursed_amount
FROM n_Patient p
JOIN r_HAS_CLAIM h ON h.src = p.person_id
JOIN n_Claim c ON c.claim_key = h.dst
WHERE p.death_date IS NOT NULL AND c.start_date > p.death_date
ORDER BY p.death_date DESC, p.person_id, c.start_date, c.scheme, c.claim_id
