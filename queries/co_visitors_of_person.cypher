// name: co_visitors_of_person
// description: Persons treated at the same institution or pharmacy on the same day as a given person, ranked by the number of shared days
// param: person_id string
MATCH (p:Patient {person_id: $person_id})-[h:HAS_CLAIM]->(:Claim)-[:TREATED_AT]->(i:Institution|Pharmacy)
WITH DISTINCT p, i, h.date AS day
MATCH (i)<-[t:TREATED_AT]-(:Claim)<-[:HAS_CLAIM]-(other:Patient)
WHERE t.date = day AND other <> p
WITH other, count(DISTINCT day) AS shared_days, count(DISTINCT i) AS institutions,
     min(day) AS first_shared_day, max(day) AS last_shared_day
RETURN other.person_id AS person_id, other.name AS name, shared_days, institutions,
       first_shared_day, last_shared_day
ORDER BY shared_days DESC, person_id
