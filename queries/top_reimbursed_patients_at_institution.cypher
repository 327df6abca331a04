// name: top_reimbursed_patients_at_institution
// description: The patients with the highest reimbursed total at one institution or pharmacy between two dates (inclusive)
// param: institution_id string
// param: since date
// param: until date
// param: top int
MATCH (i:Institution|Pharmacy {institution_id: $institution_id})<-[t:TREATED_AT]-(c:Claim)<-[:HAS_CLAIM]-(p:Patient)
WHERE t.date >= $since AND t.date <= $until
WITH p, count(c) AS claims, count(DISTINCT t.date) AS visit_days, sum(c.reimbursed_amount) AS reimbursed
RETURN p.person_id AS person_id, p.name AS name, claims, visit_days, round(reimbursed, 2) AS reimbursed
ORDER BY reimbursed DESC, person_id
LIMIT $top
