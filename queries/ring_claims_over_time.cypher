// name: ring_claims_over_time
// description: Claims of a ring's patient members per month: claim count, patients, reimbursed sum and the part paid at the ring's own institutions
// param: ring_id string
MATCH (r:Ring {ring_id: $ring_id})
OPTIONAL MATCH (r)-[:HAS_MEMBER]->(site:Institution|Pharmacy)
WITH r, collect(site.institution_id) AS ring_sites
MATCH (r)-[:HAS_MEMBER]->(p:Patient)-[:HAS_CLAIM]->(c:Claim)
WITH substring(toString(c.start_date), 0, 7) AS month, p, c, c.institution_id IN ring_sites AS at_ring_site
RETURN month, count(c) AS claims, count(DISTINCT p) AS patients,
       round(sum(c.reimbursed_amount), 2) AS reimbursed,
       sum(CASE WHEN at_ring_site THEN 1 ELSE 0 END) AS claims_at_ring_sites,
       round(sum(CASE WHEN at_ring_site THEN c.reimbursed_amount ELSE 0.0 END), 2) AS reimbursed_at_ring_sites
ORDER BY month
