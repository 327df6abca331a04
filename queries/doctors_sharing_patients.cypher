// name: doctors_sharing_patients
// description: Other doctors who treated patients of a given doctor, ranked by the number of shared patients
// param: doctor_id string
MATCH (d:Doctor {doctor_id: $doctor_id})<-[:BY_DOCTOR]-(:Claim)<-[:HAS_CLAIM]-(p:Patient)
WITH DISTINCT d, p
MATCH (p)-[:HAS_CLAIM]->(:Claim)-[:BY_DOCTOR]->(other:Doctor)
WHERE other <> d
WITH other, count(DISTINCT p) AS shared_patients
RETURN other.doctor_id AS doctor_id, other.name AS doctor_name, other.institution_id AS institution_id,
       shared_patients
ORDER BY shared_patients DESC, doctor_id
