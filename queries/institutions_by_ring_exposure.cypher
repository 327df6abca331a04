// name: institutions_by_ring_exposure
// description: Institutions and pharmacies ranked by how many patients of live rings (score at least min_score) they treated and what was reimbursed to them there
// param: min_score float
MATCH (r:Ring)-[:HAS_MEMBER]->(p:Patient)
WHERE r.score >= $min_score AND coalesce(r.status, '') <> 'vanished'
WITH DISTINCT p
MATCH (p)-[:HAS_CLAIM]->(c:Claim)-[:TREATED_AT]->(i:Institution|Pharmacy)
WITH i, count(DISTINCT p) AS ring_patients, count(c) AS claims, sum(c.reimbursed_amount) AS reimbursed
RETURN i.institution_id AS institution_id, i.name AS institution_name, i.kind AS kind, ring_patients, claims,
       round(reimbursed, 2) AS reimbursed
ORDER BY ring_patients DESC, reimbursed DESC, institution_id
